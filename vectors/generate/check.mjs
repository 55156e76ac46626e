// Independent differential check of the vectors, without tokenward: `npm test` (or `node check.mjs [dir]`).
//
// - every `expect.valid: true` case must verify with jose (jwtVerify with the policy's keys or env secret, its
//   effective issuer and audiences, `now` as currentDate and clock_skew_seconds as clockTolerance, `typ` and
//   required claims), and must also pass the checks jose does not do: max_token_bytes, lifetime (exp - iat),
//   required_scopes, and the `expect.claims` subset;
// - every `expect.code: signature_invalid` case must be rejected by jose with every key it could select;
// - every case failing after the signature step (token_expired ... insufficient_scope) must carry a signature that
//   jose's compactVerify accepts, so it cannot fail earlier for another reason.
// - request cases (`request` instead of `token`, request_*.json): the check extracts the token(s) from the request
//   itself (Authorization / MCP header / cookie / opt-in query, per `extraction`) and finds the matched route. In an
//   allow case on a route that is not disabled, the sources must hold exactly one distinct token, which must verify
//   with jose against the route's audiences (else jwt_audiences), carry `resource` in `aud` when set, grant the
//   route's scopes (scope + scp, expanded by scope_hierarchy), match the route's tenant, and give the expected
//   claims and claim/payload headers; an allow with no token needs auth_mode optional on a rule without scopes or
//   tenant. A deny after the signature step (incl. insufficient_scope, tenant_mismatch) must carry one token whose
//   signature jose accepts; a signature_invalid deny must carry one that jose rejects for its signature.
// Exits 1 naming the file and case of each failure.
import * as jose from 'jose';
import { isDeepStrictEqual } from 'node:util';
import { createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');

const FITS = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'EC:P-256': ['ES256'],
  'EC:P-384': ['ES384'],
  'OKP:Ed25519': ['EdDSA'],
  oct: ['HS256', 'HS384', 'HS512'],
};
const fitsOf = (jwk) => FITS[jwk.kty === 'EC' || jwk.kty === 'OKP' ? `${jwk.kty}:${jwk.crv}` : jwk.kty] ?? [];

function bind(jwkAlg, fits, algorithms) {
  if (jwkAlg !== undefined) return fits.includes(jwkAlg) && (!algorithms || algorithms.includes(jwkAlg)) ? jwkAlg : null;
  const candidates = (algorithms ?? []).filter((a) => fits.includes(a));
  return candidates.length === 1 ? candidates[0] : null;
}

// The keys a policy can verify with: [{ kid, alg, key }].
async function keysOf(policy, env) {
  const out = [];
  const algorithms = policy.algorithms;
  for (const jwk of policy.keys?.jwks?.keys ?? []) {
    if (jwk.use === 'enc' || (jwk.key_ops && !jwk.key_ops.includes('verify'))) continue;
    const alg = bind(jwk.alg, fitsOf(jwk), algorithms);
    if (!alg) continue;
    if (jwk.kty === 'RSA' && Buffer.from(jwk.n ?? '', 'base64url').length * 8 < 2048) continue;
    try {
      out.push({ kid: jwk.kid, alg, key: await jose.importJWK(jwk, alg) });
    } catch {
      // undecodable key: skipped, as the policy rules say
    }
  }
  for (const entry of policy.keys?.pem ?? []) {
    try {
      const details = createPublicKey(entry.key).asymmetricKeyDetails;
      if (details.modulusLength !== undefined && details.modulusLength < 2048) continue;
      out.push({ kid: entry.kid, alg: entry.alg, key: await jose.importSPKI(entry.key, entry.alg) });
    } catch {
      // skipped
    }
  }
  const secretName = policy.keys?.secret_env ?? (policy.keys === undefined ? 'JWT_SECRET' : undefined);
  if (secretName && env[secretName] !== undefined) {
    const alg = policy.keys?.secret_env ? bind(undefined, FITS.oct, algorithms ?? ['HS256']) : (algorithms ?? ['HS256']).find((a) => a.startsWith('HS'));
    if (alg) out.push({ kid: undefined, alg, key: new TextEncoder().encode(env[secretName]) });
  }
  return out;
}

function effective(policy, env) {
  const s = policy.security ?? {};
  const num = (name, doc, dflt) => (env[name] !== undefined ? Number(env[name]) : (doc ?? dflt));
  return {
    issuer: env.JWT_ISSUER ?? s.jwt_issuer,
    audiences: env.JWT_AUDIENCES !== undefined
      ? env.JWT_AUDIENCES.split(',').map((a) => a.trim()).filter(Boolean)
      : s.jwt_audiences,
    access: num('JWT_ACCESS_TOKEN_EXPIRATION', s.jwt_access_token_expiration, 2592000),
    refresh: num('JWT_REFRESH_TOKEN_EXPIRATION', s.jwt_refresh_token_expiration, 15552000),
    skew: policy.clock_skew_seconds ?? 60,
    maxBytes: policy.max_token_bytes ?? 8192,
  };
}

function candidates(keys, token) {
  const header = jose.decodeProtectedHeader(token);
  if (typeof header.kid === 'string') {
    const byKid = keys.filter((k) => k.kid === header.kid);
    // A kid no key carries falls back to the kid-less keys bound to the token's alg.
    if (byKid.length > 0) return byKid;
    return keys.filter((k) => k.kid === undefined && k.alg === header.alg);
  }
  return keys.filter((k) => k.alg === header.alg);
}

async function verifyWith(k, token, cfg, policy, now) {
  return jose.jwtVerify(token, k.key, {
    algorithms: [k.alg],
    issuer: cfg.issuer,
    audience: cfg.audiences,
    currentDate: new Date(now * 1000),
    clockTolerance: cfg.skew,
    typ: policy.typ,
    requiredClaims: ['exp', 'iss', 'aud', ...(policy.required_claims ?? [])],
  });
}

function scopesOf(payload) {
  const set = new Set();
  const add = (s) => s.split(/ +/).filter(Boolean).forEach((x) => set.add(x));
  if (payload.scope !== undefined) add(payload.scope);
  if (typeof payload.scp === 'string') add(payload.scp);
  if (Array.isArray(payload.scp)) payload.scp.forEach((x) => set.add(x));
  return set;
}

// Codes decided after the signature step.
const POST_SIGNATURE = new Set(['token_expired', 'token_not_yet_valid', 'issuer_invalid', 'audience_invalid', 'claim_missing',
  'claim_invalid', 'token_lifetime_exceeded', 'insufficient_scope']);


// ---------------------------------------------------------------------------------------------------------------
// Request cases
// ---------------------------------------------------------------------------------------------------------------
function headerValues(req, name) {
  const out = [];
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (k.toLowerCase() === name.toLowerCase()) out.push(...(Array.isArray(v) ? v : [v]));
  }
  return out;
}

function matchRoute(routes, method, path) {
  for (const r of routes ?? []) {
    if (r.methods && !r.methods.includes(method)) continue;
    if (r.path !== undefined && r.path === path) return r;
    if (r.path_prefix !== undefined) {
      const p = r.path_prefix;
      if (p.endsWith('/') ? path.startsWith(p) : path === p || path.startsWith(`${p}/`)) return r;
    }
  }
  return null;
}

// Every token the enabled sources hold (the rejection rules for malformed sources are not re-implemented here).
function extractTokens(policy, req) {
  const ex = policy.extraction ?? {};
  const out = [];
  const bearer = (v) => /^bearer +(\S+)$/i.exec(v)?.[1];
  if ((ex.preset ?? 'standard') === 'standard') {
    for (const v of headerValues(req, 'authorization')) { const t = bearer(v); if (t) out.push(t); }
    for (const v of headerValues(req, ex.mcp_proxy_header ?? 'x-mcp-proxy-auth')) out.push(bearer(v) ?? v);
    if (ex.query_param === true) {
      for (const pair of (req.query ?? '').split('&')) {
        const i = pair.indexOf('=');
        if (i > 0 && pair.slice(0, i) === 'access_token') out.push(decodeURIComponent(pair.slice(i + 1)));
      }
    }
  }
  for (const v of headerValues(req, 'cookie')) {
    for (const pair of v.split(';')) {
      const i = pair.indexOf('=');
      if (i > 0 && pair.slice(0, i).trim() === (ex.cookie_name ?? 'auth_token')) out.push(pair.slice(i + 1).trim());
    }
  }
  return [...new Set(out)];
}

function expandScopes(granted, hierarchy = {}) {
  const out = new Set(granted);
  const todo = [...granted];
  while (todo.length) {
    for (const implied of hierarchy[todo.pop()] ?? []) if (!out.has(implied)) { out.add(implied); todo.push(implied); }
  }
  return out;
}

function claimHeader(payload, path) {
  let v = payload;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(part in v)) return undefined;
    v = v[part];
  }
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length ? v.join(',') : undefined;
  return JSON.stringify(v);
}

async function checkRequestCase(vf, c, cfg, keys) {
  const { policy } = vf;
  const req = c.request;
  const route = matchRoute(policy.routes, req.method, req.path);
  const mode = route?.auth_mode ?? policy.auth_mode ?? 'required';
  const tokens = extractTokens(policy, req);
  const e = c.expect;
  if (e.valid === true) {
    if (mode === 'disabled') return e.claims ? 'claims expected on a disabled rule' : null;
    if (tokens.length === 0) {
      if (mode !== 'optional') return `allowed without a token under auth_mode ${mode}`;
      if (route?.scopes || route?.tenant) return 'anonymous allow on a rule with scopes or tenant';
      return e.claims ? 'claims expected on an anonymous allow' : null;
    }
    if (tokens.length > 1) return `allow case holds ${tokens.length} different tokens`;
    const [token] = tokens;
    const rcfg = { ...cfg, audiences: route?.audiences ?? cfg.audiences };
    let payload;
    const errors = [];
    for (const k of candidates(keys, token)) {
      try {
        ({ payload } = await verifyWith(k, token, rcfg, policy, vf.now));
        break;
      } catch (err) {
        errors.push(`${k.kid ?? k.alg}: ${err.code ?? err.message}`);
      }
    }
    if (!payload) return `jose rejects the token of an allow case (${errors.join('; ') || 'no candidate key'})`;
    if (token.length > cfg.maxBytes) return `longer than max_token_bytes ${cfg.maxBytes}`;
    const kind = policy.token_kind ?? 'access';
    if (typeof payload.iat === 'number' && payload.exp - payload.iat > cfg[kind]) return `lifetime over ${cfg[kind]}`;
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (policy.resource !== undefined && !aud.includes(policy.resource)) return `aud lacks resource ${policy.resource}`;
    const granted = expandScopes(scopesOf(payload), policy.scope_hierarchy);
    const allOf = route?.scopes?.all_of ?? [];
    const anyOf = route?.scopes?.any_of;
    if (allOf.some((s) => !granted.has(s))) return `all_of not granted: ${allOf.join(' ')}`;
    if (anyOf && anyOf.length && !anyOf.some((s) => granted.has(s))) return `any_of not granted: ${anyOf.join(' ')}`;
    if (route?.tenant) {
      const wanted = route.tenant.header !== undefined
        ? headerValues(req, route.tenant.header)[0]
        : req.path.slice(1).split('/')[route.tenant.path_segment];
      if (typeof payload.tenant_id !== 'string' || payload.tenant_id !== wanted) return 'tenant does not match';
    }
    const mismatch = Object.entries(e.claims ?? {}).filter(([k, v]) => !isDeepStrictEqual(payload[k], v));
    if (mismatch.length) return `claims differ: ${mismatch.map(([k]) => k).join(', ')}`;
    const want = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [claim, header] of Object.entries(policy.claim_to_headers ?? {})) {
      const h = header.toLowerCase();
      const v = claimHeader(payload, claim);
      if (h in want && want[h] !== v) return `header ${h}: expected ${want[h]}, the claim gives ${v}`;
      if (v === undefined && h in want) return `header ${h} expected but claim ${claim} is absent`;
      if (v !== undefined && (e.headers_absent ?? []).map((x) => x.toLowerCase()).includes(h)) return `header ${h} listed absent but claim ${claim} is present`;
    }
    if (policy.payload_header && policy.payload_header.toLowerCase() in want && want[policy.payload_header.toLowerCase()] !== token.split('.')[1]) {
      return 'payload header differs from the payload segment';
    }
    return null;
  }
  if (POST_SIGNATURE.has(e.code) || e.code === 'tenant_mismatch' || e.code === 'signature_invalid') {
    if (tokens.length !== 1) return `${e.code} case holds ${tokens.length} tokens, expected one`;
    const [token] = tokens;
    const cands = candidates(keys, token);
    if (cands.length === 0) return 'no candidate key to check the signature against';
    let verified = false;
    for (const k of cands) {
      try {
        await jose.compactVerify(token, k.key, { algorithms: [k.alg] });
        verified = true;
        break;
      } catch {
        // try the next candidate
      }
    }
    if (e.code === 'signature_invalid') return verified ? 'jose accepts the signature of a signature_invalid case' : null;
    return verified ? null : `expects ${e.code} but its signature does not verify with jose`;
  }
  return undefined; // not cross-checked (extraction, scanner and pre-signature codes)
}

let passed = 0;
const failures = [];
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
for (const name of files) {
  const vf = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  if (!vf.cases) continue;
  const env = vf.env ?? {};
  const cfg = effective(vf.policy, env);
  const keys = await keysOf(vf.policy, env);
  for (const c of vf.cases) {
    const fail = (why) => failures.push(`${name}: ${c.name}: ${why}`);
    if (c.request) {
      const problem = await checkRequestCase(vf, c, cfg, keys);
      if (problem) fail(problem);
      else if (problem === null) passed += 1;
      continue;
    }
    if (c.expect.valid === true) {
      let payload;
      const errors = [];
      for (const k of candidates(keys, c.token)) {
        try {
          ({ payload } = await verifyWith(k, c.token, cfg, vf.policy, vf.now));
          break;
        } catch (e) {
          errors.push(`${k.kid ?? k.alg}: ${e.code ?? e.message}`);
        }
      }
      if (!payload) {
        fail(`jose rejects a valid case (${errors.join('; ') || 'no candidate key'})`);
        continue;
      }
      const kind = vf.policy.token_kind ?? 'access';
      if (c.token.length > cfg.maxBytes) { fail(`longer than max_token_bytes ${cfg.maxBytes}`); continue; }
      if (typeof payload.iat === 'number' && payload.exp - payload.iat > cfg[kind]) { fail(`lifetime over ${cfg[kind]}`); continue; }
      const granted = scopesOf(payload);
      const missing = (c.required_scopes ?? []).filter((s) => !granted.has(s));
      if (missing.length) { fail(`scopes not granted: ${missing.join(' ')}`); continue; }
      const mismatch = Object.entries(c.expect.claims ?? {}).filter(([k, v]) => !isDeepStrictEqual(payload[k], v));
      if (mismatch.length) { fail(`claims differ: ${mismatch.map(([k]) => k).join(', ')}`); continue; }
      passed += 1;
    } else if (POST_SIGNATURE.has(c.expect.code)) {
      // A claim-level failure must carry a good signature, or it would fail earlier for another reason.
      let verified = false;
      for (const k of candidates(keys, c.token)) {
        try {
          await jose.compactVerify(c.token, k.key, { algorithms: [k.alg] });
          verified = true;
          break;
        } catch {
          // try the next candidate
        }
      }
      if (verified) passed += 1;
      else fail(`expects ${c.expect.code} but its signature does not verify with jose`);
    } else if (c.expect.code === 'signature_invalid') {
      const cands = candidates(keys, c.token);
      if (cands.length === 0) { fail('no candidate key to check the signature against'); continue; }
      let accepted = false;
      for (const k of cands) {
        try {
          await verifyWith(k, c.token, cfg, vf.policy, vf.now);
          accepted = true;
        } catch (e) {
          if (e.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
            fail(`jose rejects it for another reason: ${e.code ?? e.message}`);
            accepted = null;
            break;
          }
        }
      }
      if (accepted) fail('jose accepts a signature_invalid case');
      else if (accepted === false) passed += 1;
    }
  }
}
for (const f of failures) console.error(`FAIL ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
