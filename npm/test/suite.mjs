// The vector runner every runtime shares (Node CJS and ESM, Deno, Bun, workerd, Chromium).
// It takes the package's API and the parsed vector files, and returns the failures; each names
// the file and the case and shows expected versus got. No runtime-specific code here.

function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function subset(label, want, got, problems) {
  for (const k of Object.keys(want)) {
    if (!got || !(k in got)) problems.push(`${label} ${k}: expected ${canon(want[k])}, missing`);
    else if (canon(got[k]) !== canon(want[k])) {
      problems.push(`${label} ${k}: expected ${canon(want[k])}, got ${canon(got[k])}`);
    }
  }
}

function checkPolicy(api, file) {
  const expect = file.expect_policy;
  const problems = [];
  let verifier;
  let error;
  try {
    verifier = new api.Verifier(file.policy, { env: file.env ?? {} });
  } catch (e) {
    error = e;
  }
  const wantValid = expect.valid ?? true;
  if (verifier && wantValid) {
    if (Array.isArray(expect.warnings)) {
      const want = [...new Set(expect.warnings)].sort();
      const got = [...new Set(verifier.warnings.map((w) => w.code))].sort();
      if (canon(want) !== canon(got)) problems.push(`expected warnings ${canon(want)}, got ${canon(got)}`);
    }
  } else if (verifier && !wantValid) {
    problems.push(`expected the policy to fail with ${expect.code ?? 'an error'}, but it loaded`);
  } else if (!(error instanceof api.TokenwardError)) {
    problems.push(`expected a TokenwardError, got ${error}`);
  } else if (wantValid) {
    problems.push(`expected the policy to load, got ${error.code}: ${error.message}`);
  } else {
    if (expect.code && error.code !== expect.code) problems.push(`expected code ${expect.code}, got ${error.code}: ${error.message}`);
    if (expect.message_contains && !error.message.includes(expect.message_contains)) {
      problems.push(`expected the message to contain ${JSON.stringify(expect.message_contains)}, got ${JSON.stringify(error.message)}`);
    }
    if (error.status !== 500) problems.push(`expected status 500 for a configuration error, got ${error.status}`);
  }
  if (verifier) verifier.free();
  return problems;
}

async function checkToken(verifier, api, c, now, useAsync) {
  const problems = [];
  const expect = c.expect ?? {};
  const wantValid = expect.valid ?? true;
  const options = { now, requiredScopes: c.required_scopes ?? [] };
  let payload;
  let error;
  try {
    payload = useAsync ? await verifier.verifyAsync(c.token, options) : verifier.verify(c.token, options);
  } catch (e) {
    error = e;
  }
  if (payload && !wantValid) problems.push(`expected ${expect.code ?? 'a rejection'} but the token was accepted`);
  else if (error && !(error instanceof api.TokenwardError)) problems.push(`threw a non-TokenwardError: ${error}`);
  else if (error && wantValid) problems.push(`expected valid, got ${error.code}: ${error.message}`);
  else if (error) {
    if (expect.code && error.code !== expect.code) problems.push(`expected ${expect.code}, got ${error.code}: ${error.message}`);
    if (expect.status && error.status !== expect.status) problems.push(`expected status ${expect.status}, got ${error.status} (${error.code})`);
    if (!(error instanceof Error) || typeof error.stack !== 'string') problems.push('the error is not an Error with a stack');
    if (error.status === 401 || error.status === 403) {
      if (typeof error.wwwAuthenticate !== 'string' || !error.wwwAuthenticate.startsWith('Bearer')) {
        problems.push(`expected a Bearer challenge, got ${error.wwwAuthenticate}`);
      }
    }
  } else if (expect.claims) subset('claim', expect.claims, payload, problems);
  return problems;
}

async function checkRequest(verifier, c, now, useAsync) {
  const problems = [];
  const expect = c.expect ?? {};
  const spec = c.request;
  const request = {
    method: spec.method,
    path: spec.path,
    headers: spec.headers ?? {},
    query: spec.query,
    requestsInWindow: spec.requests_in_window,
  };
  const d = useAsync ? await verifier.authorizeAsync(request, { now }) : verifier.authorize(request, { now });
  const wantValid = expect.valid ?? true;
  const got = `${d.code ?? 'allow'} (${d.message ?? ''})`;
  if (d.allowed !== wantValid) {
    problems.push(`expected ${wantValid ? 'allow' : `deny ${expect.code ?? ''}`}, got ${got}`);
    return problems;
  }
  if (expect.code && d.code !== expect.code) problems.push(`expected ${expect.code}, got ${got}`);
  if (expect.status && d.status !== expect.status) problems.push(`expected status ${expect.status}, got ${d.status}`);
  if (typeof expect.www_authenticate === 'string') {
    if (typeof d.wwwAuthenticate !== 'string' || !d.wwwAuthenticate.includes(expect.www_authenticate)) {
      problems.push(`expected WWW-Authenticate containing ${JSON.stringify(expect.www_authenticate)}, got ${JSON.stringify(d.wwwAuthenticate)}`);
    }
  } else if (expect.www_authenticate === null || expect.www_authenticate_absent === true) {
    if (d.wwwAuthenticate !== undefined) problems.push(`expected no WWW-Authenticate, got ${JSON.stringify(d.wwwAuthenticate)}`);
  }
  const injected = {};
  for (const [n, v] of d.headers) injected[n.toLowerCase()] = v;
  if (expect.headers) {
    const want = {};
    for (const k of Object.keys(expect.headers)) want[k.toLowerCase()] = expect.headers[k];
    subset('header', want, injected, problems);
  }
  for (const name of expect.headers_absent ?? []) {
    if (name.toLowerCase() in injected) problems.push(`header ${name} should be absent, got ${injected[name.toLowerCase()]}`);
  }
  if (expect.audit) subset('audit', expect.audit, d.audit, problems);
  if (expect.claims) {
    if (d.claims) subset('claim', expect.claims, d.claims, problems);
    else problems.push('expected claims, the decision has none');
  }
  return problems;
}

/**
 * Runs `files` ([{ name, data }]) against `api` ({ Verifier, TokenwardError }).
 * `options.crypto` is the Verifier's crypto option; `options.async` uses verifyAsync /
 * authorizeAsync. Returns { cases, policyFiles, failures }.
 */
export async function runVectors(api, files, options = {}) {
  const tally = { cases: 0, policyFiles: 0, failures: [], native: 0, fallback: 0 };
  for (const { name, data } of files) {
    const fail = (what) => tally.failures.push(`${name}: ${what}`);
    if (data.expect_policy) {
      tally.policyFiles += 1;
      for (const p of checkPolicy(api, data)) fail(`expect_policy: ${p}`);
      continue;
    }
    if (!Array.isArray(data.cases)) {
      fail('has neither cases nor expect_policy');
      continue;
    }
    let verifier;
    try {
      verifier = new api.Verifier(data.policy, { env: data.env ?? {}, crypto: options.crypto ?? 'auto' });
    } catch (e) {
      tally.cases += data.cases.length;
      fail(`policy does not load (${e.code}: ${e.message}); ${data.cases.length} case(s) not run`);
      continue;
    }
    for (const [i, c] of data.cases.entries()) {
      tally.cases += 1;
      const caseName = c.name ?? `#${i}`;
      let problems;
      try {
        problems = c.request
          ? await checkRequest(verifier, c, data.now, options.async)
          : await checkToken(verifier, api, c, data.now, options.async);
      } catch (e) {
        problems = [`threw ${e && e.stack ? e.stack : e}`];
      }
      for (const p of problems) fail(`case ${caseName}: ${p}`);
    }
    const stats = verifier[Symbol.for('tokenward.stats')];
    if (stats) {
      tally.native += stats.native;
      tally.fallback += stats.wasm;
    }
    verifier.free();
  }
  return tally;
}

/** The modes every runtime runs: each provider, sync and async. */
export const MODES = [
  { label: 'native crypto (every family), sync', crypto: 'native', async: false },
  { label: 'native crypto (every family), async', crypto: 'native', async: true },
  { label: 'auto crypto, sync', crypto: 'auto', async: false },
  { label: 'wasm crypto, sync', crypto: 'wasm', async: false },
];
