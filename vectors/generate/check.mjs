// Independent differential check of the vectors, without tokenward: `npm test` (or `node check.mjs [dir]`).
//
// - every `expect.valid: true` case must verify with jose (jwtVerify with the policy's keys or env secret, its
//   effective issuer and audiences, `now` as currentDate and clock_skew_seconds as clockTolerance, `typ` and
//   required claims), and must also pass the checks jose does not do: max_token_bytes, lifetime (exp - iat),
//   required_scopes, and the `expect.claims` subset;
// - every `expect.code: signature_invalid` case must be rejected by jose with every key it could select;
// - every case failing after the signature step (token_expired ... insufficient_scope) must carry a signature that
//   jose's compactVerify accepts, so it cannot fail earlier for another reason.
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
  if (typeof header.kid === 'string') return keys.filter((k) => k.kid === header.kid);
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
