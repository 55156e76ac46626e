// Runs every mode of the shared suite over the vector sets and prints one line per set and mode;
// returns the number of failures (the caller sets the exit code). Used by Deno, Bun, workerd and
// Chromium runners. Also checks sign() and a remote JWKS (with a custom fetch) in the runtime.
import { MODES, runVectors } from '../suite.mjs';

const ISS = 'https://idp.example.com';
const SECRET = 'k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj';

/** sign + verifyAsync, the secret refusal, and createRemoteJwks driving verifyAsync / authorizeAsync. */
export async function checkExtras(api) {
  const problems = [];
  const expect = (ok, what) => ok || problems.push(what);
  const policy = { security: { jwt_issuer: ISS, jwt_audiences: ['api'] } };
  const env = { JWT_SECRET: SECRET };
  const claims = { iss: ISS, sub: 'alice', aud: 'api' };
  const token = api.sign(claims, SECRET, { policy, env, expiresIn: 60 });
  const v = new api.Verifier(policy, { env });
  expect((await v.verifyAsync(token)).sub === 'alice', 'a signed token does not verify');
  try {
    api.sign(claims, 'changeme', { policy, env, expiresIn: 60 });
    problems.push('a weak secret was not refused');
  } catch (e) {
    expect(e.code === 'secret_refused', `weak secret: expected secret_refused, got ${e.code}`);
  }
  const k = btoa(SECRET).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  let fetches = 0;
  const fetch = async () => {
    fetches += 1;
    return new Response(JSON.stringify({ keys: [{ kty: 'oct', k, kid: 'hs-1', alg: 'HS256' }] }));
  };
  const remote = new api.Verifier(policy, { jwks: api.createRemoteJwks(`${ISS}/jwks`, { fetch }) });
  const t2 = api.sign(claims, { secret: SECRET, kid: 'hs-1' }, { policy, env, expiresIn: 60 });
  expect((await remote.verifyAsync(t2)).sub === 'alice', 'remote JWKS: verifyAsync failed');
  const d = await remote.authorizeAsync({ method: 'GET', url: '/', headers: { authorization: `Bearer ${t2}` } });
  expect(d.allowed && d.subject === 'alice', `remote JWKS: authorizeAsync denied (${d.code})`);
  expect(fetches === 1, `remote JWKS: expected 1 fetch, got ${fetches}`);
  return problems;
}

export async function runAll(runtime, api, sets, print = console.log) {
  let failed = 0;
  for (const { label, files } of sets) {
    for (const mode of MODES) {
      const t = await runVectors(api, files, mode);
      const ok = t.failures.length === 0 && t.cases + t.policyFiles > 0;
      print(`${ok ? 'ok' : 'not ok'} - ${runtime} ${label} ${mode.label}: ${t.cases} case(s), ${t.policyFiles} policy file(s), ${t.failures.length} failure(s); signatures: ${t.native} native, ${t.fallback} native-import fallbacks to wasm`);
      for (const f of t.failures) print(`    ${f}`);
      if (!ok) failed += Math.max(1, t.failures.length);
    }
  }
  let extras;
  try {
    extras = await checkExtras(api);
  } catch (e) {
    extras = [`threw ${e && e.stack ? e.stack : e}`];
  }
  print(`${extras.length ? 'not ok' : 'ok'} - ${runtime} sign, secret refusal, remote JWKS`);
  for (const p of extras) print(`    ${p}`);
  return failed + extras.length;
}
