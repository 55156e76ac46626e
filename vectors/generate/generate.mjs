// Mints the tokenward conformance vectors with jose (an independent JWT implementation) and the fixed keys in
// ../keys/, and writes one JSON file per topic into ../ (vectors/).
//
//   cd vectors/generate && npm ci && node generate.mjs && npm test
//
// It also runs requests.mjs at the end, which writes the request-level vectors (request_*.json).
//
// Valid tokens are signed by jose (SignJWT, CompactSign). Tokens whose header or payload bytes cannot come out of
// JSON.stringify (duplicate members, invalid UTF-8, bad base64url, `crit`, `alg: none`, ...) are assembled by hand
// here and, where a later check must be reached, signed with node:crypto over the exact signing input, so that every
// invalid case fails for exactly the one reason its name and `expect.code` give. Nothing here uses tokenward.
//
// Output is deterministic except PS*/ES* signatures, which the algorithms randomise.
import * as jose from 'jose';
import crypto from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const vectorsDir = join(here, '..');
const keysDir = join(vectorsDir, 'keys');

// ---------------------------------------------------------------------------------------------------------------
// Fixed inputs
// ---------------------------------------------------------------------------------------------------------------
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const ISS = 'https://idp.example.com';
const AUDS = ['web', 'api', 'a2a', 'mcp'];
const SECURITY = {
  jwt_issuer: ISS,
  jwt_access_token_expiration: 3600,
  jwt_refresh_token_expiration: 604800,
  jwt_audiences: AUDS,
};

const readKey = (name) => readFileSync(join(keysDir, name), 'utf8');
const PEM = {};
for (const name of ['rsa-2048', 'rsa-2048-b', 'rsa-1024', 'ec-p256', 'ec-p384', 'ed25519']) {
  PEM[name] = { priv: readKey(`${name}.private.pem`), pub: readKey(`${name}.public.pem`) };
}
const SECRET = readKey('hmac.secret');
const SECRET_BYTES = Buffer.from(SECRET, 'utf8');
const OTHER_SECRET = Buffer.from('an-entirely-different-48-byte-secret-for-forgery', 'utf8');
const JWKS = JSON.parse(readKey('jwks.json'));
const jwkByKid = (kid) => structuredClone(JWKS.keys.find((k) => k.kid === kid));
const jwkFromPem = (pem, extra) => ({ ...extra, ...crypto.createPublicKey(pem).export({ format: 'jwk' }) });

// Private KeyObjects by signing-key name.
const PRIV = {
  'rsa-1': crypto.createPrivateKey(PEM['rsa-2048'].priv),
  'rsa-2': crypto.createPrivateKey(PEM['rsa-2048-b'].priv),
  'rsa-1024': crypto.createPrivateKey(PEM['rsa-1024'].priv),
  'ec-256': crypto.createPrivateKey(PEM['ec-p256'].priv),
  'ec-384': crypto.createPrivateKey(PEM['ec-p384'].priv),
  'ed-1': crypto.createPrivateKey(PEM.ed25519.priv),
};

const b64u = (x) => Buffer.from(x).toString('base64url');
const enc = (obj) => b64u(JSON.stringify(obj));
const octJwk = (kid, alg, secret = SECRET_BYTES) => {
  const k = { kty: 'oct', k: b64u(secret) };
  if (kid !== undefined) k.kid = kid;
  if (alg !== undefined) k.alg = alg;
  return k;
};

// The default payload: valid against SECURITY at NOW. `undefined` in overrides removes a member.
const claims = (over = {}) => {
  const base = { iss: ISS, aud: 'api', sub: 'u1', iat: NOW - 60, exp: NOW + 600, jti: 'jti-1', ...over };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
};

// ---------------------------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------------------------
const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

// A jose-minted compact JWT.
async function jwt(alg, signer, payload, header = {}) {
  const key = alg.startsWith('HS') ? (signer ?? SECRET_BYTES) : PRIV[signer];
  return new jose.SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key);
}

// node:crypto signature over exact bytes, for hand-built headers/payloads. Returns the raw signature bytes.
function rawSig(alg, signer, input) {
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) return crypto.createHmac(HASH[bits], signer ?? SECRET_BYTES).update(input).digest();
  if (alg.startsWith('RS')) return crypto.sign(HASH[bits], Buffer.from(input), PRIV[signer]);
  if (alg.startsWith('PS')) {
    return crypto.sign(HASH[bits], Buffer.from(input), {
      key: PRIV[signer],
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  }
  if (alg.startsWith('ES')) return crypto.sign(HASH[bits], Buffer.from(input), { key: PRIV[signer], dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return crypto.sign(null, Buffer.from(input), PRIV[signer]);
  throw new Error(`no signer for ${alg}`);
}

// Hand-assembled token: header/payload given as JSON text, Buffer, or object; signature over the exact segments.
const seg = (x) => (typeof x === 'string' || Buffer.isBuffer(x) ? b64u(x) : enc(x));
function raw(alg, signer, header, payload) {
  const h = seg(header);
  const p = seg(payload);
  return `${h}.${p}.${b64u(rawSig(alg, signer, `${h}.${p}`))}`;
}
// Signature over exactly the given segment strings (which may be non-canonical on purpose).
function rawSegs(alg, signer, h, p) {
  return `${h}.${p}.${b64u(rawSig(alg, signer, `${h}.${p}`))}`;
}

const parts = (t) => t.split('.');
const payloadOf = (t) => JSON.parse(Buffer.from(parts(t)[1], 'base64url').toString('utf8'));
// Same header and signature, payload changed: the signature no longer matches.
function tamperPayload(t, over = { sub: 'admin' }) {
  const [h, , s] = parts(t);
  return `${h}.${enc({ ...payloadOf(t), ...over })}.${s}`;
}
// Same header and payload, one bit of the first signature byte flipped (still canonical base64url).
function tamperSig(t) {
  const [h, p, s] = parts(t);
  const sig = Buffer.from(s, 'base64url');
  sig[0] ^= 0x01;
  return `${h}.${p}.${b64u(sig)}`;
}
const withSig = (t, sigBytes) => {
  const [h, p] = parts(t);
  return `${h}.${p}.${b64u(sigBytes)}`;
};

// ---------------------------------------------------------------------------------------------------------------
// Cases and files
// ---------------------------------------------------------------------------------------------------------------
const STATUS = (code) => (code === 'insufficient_scope' ? 403 : 401);
const pick = (payload, keys) => Object.fromEntries(keys.filter((k) => k in payload).map((k) => [k, payload[k]]));
// A valid case; claims default to a few members of the token's payload.
function ok(name, token, claimsOrKeys = ['sub', 'iss'], extra = {}) {
  const c = Array.isArray(claimsOrKeys) ? pick(payloadOf(token), claimsOrKeys) : claimsOrKeys;
  return { name, token, ...extra, expect: { valid: true, claims: c } };
}
function bad(name, token, code, extra = {}) {
  return { name, token, ...extra, expect: { valid: false, code, status: STATUS(code) } };
}

const files = [];
function file(name, description, policy, cases, { env, now = NOW } = {}) {
  const f = { description, policy };
  if (env) f.env = env;
  f.now = now;
  f.cases = cases;
  files.push([name, f]);
}
function policyFile(name, description, policy, expectPolicy, { env } = {}) {
  const f = { description, policy };
  if (env) f.env = env;
  f.now = NOW;
  f.expect_policy = expectPolicy;
  files.push([name, f]);
}

const hsPolicy = (extra = {}) => ({ security: SECURITY, keys: { jwks: { keys: [octJwk('hs-1', 'HS256')] } }, ...extra });
const HS_HDR = { alg: 'HS256', kid: 'hs-1' };
const hs = (payload, header = {}) => jwt('HS256', undefined, payload, { kid: 'hs-1', ...header });

// ===============================================================================================================
// hs256.json
// ===============================================================================================================
{
  const full = claims({ sub: 'user-42', scope: 'tools:read', tenant_id: 't-9', roles: ['admin'], client_id: 'cli-1' });
  const good = await hs(full, { typ: 'JWT' });
  file('hs256.json', 'HS256 with an oct JWK (kid hs-1): valid and tampered tokens.', hsPolicy(), [
    ok('valid_with_kid', good, ['sub', 'tenant_id', 'roles', 'client_id']),
    ok('valid_without_kid_tries_every_hs256_key', await jwt('HS256', undefined, claims()), ['sub', 'aud']),
    ok('valid_minimal_claims_iss_aud_exp_only', await hs({ iss: ISS, aud: 'web', exp: NOW + 300 }), ['aud', 'exp']),
    ok('valid_aud_array', await hs(claims({ aud: ['mcp', 'other'] })), ['aud', 'sub']),
    bad('tampered_payload_sub_changed', tamperPayload(good), 'signature_invalid'),
    bad('tampered_payload_exp_extended', tamperPayload(good, { exp: NOW + 999999 }), 'signature_invalid'),
    bad('tampered_signature_bit_flip', tamperSig(good), 'signature_invalid'),
    bad('signed_with_other_secret', await jwt('HS256', OTHER_SECRET, claims(), { kid: 'hs-1' }), 'signature_invalid'),
    bad('signature_truncated_to_31_bytes', withSig(good, Buffer.from(parts(good)[2], 'base64url').subarray(0, 31)), 'signature_invalid'),
    bad('empty_signature', `${parts(good)[0]}.${parts(good)[1]}.`, 'signature_invalid'),
    bad('hs384_not_allowed_for_hs256_key', await jwt('HS384', undefined, claims(), { kid: 'hs-1' }), 'algorithm_not_allowed'),
    bad('unknown_kid', await hs(claims(), { kid: 'hs-2' }), 'key_not_found'),
    bad('lowercase_alg_hs256', raw('HS256', undefined, { alg: 'hs256', kid: 'hs-1' }, claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// rs256.json
// ===============================================================================================================
{
  const good = await jwt('RS256', 'rsa-1', claims({ sub: 'rs-user' }), { kid: 'rsa-1', typ: 'JWT' });
  file('rs256.json', 'RS256 with the rsa-1 JWK from keys/jwks.json.', { security: SECURITY, keys: { jwks: { keys: [jwkByKid('rsa-1')] } } }, [
    ok('valid_with_kid', good, ['sub', 'aud']),
    ok('valid_without_kid', await jwt('RS256', 'rsa-1', claims({ sub: 'rs-nokid' })), ['sub', 'jti']),
    bad('tampered_payload', tamperPayload(good), 'signature_invalid'),
    bad('tampered_signature', tamperSig(good), 'signature_invalid'),
    bad('signed_by_other_rsa_key_same_kid', await jwt('RS256', 'rsa-2', claims(), { kid: 'rsa-1' }), 'signature_invalid'),
    bad('signed_by_other_rsa_key_no_kid', await jwt('RS256', 'rsa-2', claims()), 'signature_invalid'),
    bad('signed_by_rsa_1024_key_with_kid', raw('RS256', 'rsa-1024', { alg: 'RS256', kid: 'rsa-1' }, claims()), 'signature_invalid'),
    bad('pss_signature_under_rs256_header', withSig(good, rawSig('PS256', 'rsa-1', parts(good).slice(0, 2).join('.'))), 'signature_invalid'),
    bad('empty_signature', `${parts(good)[0]}.${parts(good)[1]}.`, 'signature_invalid'),
    bad('unknown_kid', await jwt('RS256', 'rsa-1', claims(), { kid: 'rsa-9' }), 'key_not_found'),
    bad('rs512_not_allowed', await jwt('RS512', 'rsa-1', claims(), { kid: 'rsa-1' }), 'algorithm_not_allowed'),
    bad('lowercase_rs256_not_allowed', raw('RS256', 'rsa-1', { alg: 'rs256', kid: 'rsa-1' }, claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// ps256.json, ps384_ps512.json
// ===============================================================================================================
{
  const pem = (kid, alg, name = 'rsa-2048') => ({ kid, alg, key: PEM[name].pub });
  const good = await jwt('PS256', 'rsa-1', claims({ sub: 'ps-user' }), { kid: 'ps-256' });
  file('ps256.json', 'PS256 with a PEM public key bound to PS256.', { security: SECURITY, keys: { pem: [pem('ps-256', 'PS256')] } }, [
    ok('valid_with_kid', good, ['sub', 'aud']),
    ok('valid_without_kid', await jwt('PS256', 'rsa-1', claims({ sub: 'ps-nokid' })), ['sub', 'iss']),
    bad('tampered_payload', tamperPayload(good), 'signature_invalid'),
    bad('tampered_signature', tamperSig(good), 'signature_invalid'),
    bad('pkcs1_signature_under_ps256_header', withSig(good, rawSig('RS256', 'rsa-1', parts(good).slice(0, 2).join('.'))), 'signature_invalid'),
    bad('signed_by_other_rsa_key', await jwt('PS256', 'rsa-2', claims(), { kid: 'ps-256' }), 'signature_invalid'),
    bad('rs256_not_allowed_for_ps256_key', await jwt('RS256', 'rsa-1', claims(), { kid: 'ps-256' }), 'algorithm_not_allowed'),
  ]);
  const g384 = await jwt('PS384', 'rsa-1', claims({ sub: 'ps384-user' }), { kid: 'ps-384' });
  const g512 = await jwt('PS512', 'rsa-1', claims({ sub: 'ps512-user' }), { kid: 'ps-512' });
  file('ps384_ps512.json', 'PS384 and PS512: one RSA key under two kids, each bound to one algorithm.', {
    security: SECURITY,
    keys: { pem: [pem('ps-384', 'PS384'), pem('ps-512', 'PS512')] },
  }, [
    ok('ps384_valid', g384, ['sub', 'aud']),
    ok('ps512_valid', g512, ['sub', 'aud']),
    ok('ps384_valid_without_kid', await jwt('PS384', 'rsa-1', claims({ sub: 'p3' })), ['sub', 'iss']),
    ok('ps512_valid_without_kid', await jwt('PS512', 'rsa-1', claims({ sub: 'p5' })), ['sub', 'iss']),
    bad('ps384_tampered_payload', tamperPayload(g384), 'signature_invalid'),
    bad('ps384_tampered_signature', tamperSig(g384), 'signature_invalid'),
    bad('ps512_tampered_payload', tamperPayload(g512), 'signature_invalid'),
    bad('ps512_tampered_signature', tamperSig(g512), 'signature_invalid'),
    bad('ps384_token_with_kid_bound_to_ps512', await jwt('PS384', 'rsa-1', claims(), { kid: 'ps-512' }), 'algorithm_not_allowed'),
    bad('ps256_not_allowed', await jwt('PS256', 'rsa-1', claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// rs384_rs512_hs384_hs512.json
// ===============================================================================================================
{
  const pem = (kid, alg) => ({ kid, alg, key: PEM['rsa-2048'].pub });
  const r384 = await jwt('RS384', 'rsa-1', claims({ sub: 'r384' }), { kid: 'rsa-384' });
  const r512 = await jwt('RS512', 'rsa-1', claims({ sub: 'r512' }), { kid: 'rsa-512' });
  const h384 = await jwt('HS384', undefined, claims({ sub: 'h384' }), { kid: 'hs-384' });
  const h512 = await jwt('HS512', undefined, claims({ sub: 'h512' }), { kid: 'hs-512' });
  file('rs384_rs512_hs384_hs512.json', 'RS384, RS512 (PEM) and HS384, HS512 (oct JWKs) in one policy.', {
    security: SECURITY,
    keys: {
      jwks: { keys: [octJwk('hs-384', 'HS384'), octJwk('hs-512', 'HS512')] },
      pem: [pem('rsa-384', 'RS384'), pem('rsa-512', 'RS512')],
    },
  }, [
    ok('rs384_valid', r384, ['sub', 'aud']),
    ok('rs512_valid', r512, ['sub', 'aud']),
    ok('hs384_valid', h384, ['sub', 'aud']),
    ok('hs512_valid', h512, ['sub', 'aud']),
    ok('rs512_valid_without_kid', await jwt('RS512', 'rsa-1', claims({ sub: 'r512n' })), ['sub', 'jti']),
    ok('hs384_valid_without_kid', await jwt('HS384', undefined, claims({ sub: 'h384n' })), ['sub', 'jti']),
    bad('rs384_tampered_payload', tamperPayload(r384), 'signature_invalid'),
    bad('rs512_tampered_signature', tamperSig(r512), 'signature_invalid'),
    bad('hs384_tampered_payload', tamperPayload(h384), 'signature_invalid'),
    bad('hs512_tampered_signature', tamperSig(h512), 'signature_invalid'),
    bad('hs512_signed_with_other_secret', await jwt('HS512', OTHER_SECRET, claims(), { kid: 'hs-512' }), 'signature_invalid'),
    bad('rs384_token_with_kid_bound_to_rs512', await jwt('RS384', 'rsa-1', claims(), { kid: 'rsa-512' }), 'algorithm_not_allowed'),
    bad('hs512_token_with_kid_bound_to_hs384', await jwt('HS512', undefined, claims(), { kid: 'hs-384' }), 'algorithm_not_allowed'),
    bad('hs256_not_allowed', await jwt('HS256', undefined, claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// es256.json, es384.json, eddsa.json
// ===============================================================================================================
{
  const good = await jwt('ES256', 'ec-256', claims({ sub: 'es-user' }), { kid: 'ec-256' });
  const der = crypto.sign('sha256', Buffer.from(parts(good).slice(0, 2).join('.')), { key: PRIV['ec-256'], dsaEncoding: 'der' });
  file('es256.json', 'ES256 with the ec-256 JWK, including the r=s=0 ("psychic signature") attack.', {
    security: SECURITY,
    keys: { jwks: { keys: [jwkByKid('ec-256')] } },
  }, [
    ok('valid_with_kid', good, ['sub', 'aud']),
    ok('valid_without_kid', await jwt('ES256', 'ec-256', claims({ sub: 'es-nokid' })), ['sub', 'iss']),
    bad('tampered_payload', tamperPayload(good), 'signature_invalid'),
    bad('tampered_signature', tamperSig(good), 'signature_invalid'),
    bad('signature_r_s_zero_64_bytes', withSig(good, Buffer.alloc(64)), 'signature_invalid'),
    bad('signature_r_s_zero_without_kid', withSig(await jwt('ES256', 'ec-256', claims()), Buffer.alloc(64)), 'signature_invalid'),
    bad('signature_der_encoded_not_raw', withSig(good, der), 'signature_invalid'),
    bad('signature_63_bytes', withSig(good, Buffer.from(parts(good)[2], 'base64url').subarray(0, 63)), 'signature_invalid'),
    bad('empty_signature', `${parts(good)[0]}.${parts(good)[1]}.`, 'signature_invalid'),
    bad('es384_not_allowed', await jwt('ES384', 'ec-384', claims(), { kid: 'ec-256' }), 'algorithm_not_allowed'),
  ]);

  const g384 = await jwt('ES384', 'ec-384', claims({ sub: 'es384-user' }), { kid: 'ec-384' });
  file('es384.json', 'ES384 with the ec-384 JWK, next to ec-256.', {
    security: SECURITY,
    keys: { jwks: { keys: [jwkByKid('ec-256'), jwkByKid('ec-384')] } },
  }, [
    ok('valid_with_kid', g384, ['sub', 'aud']),
    ok('valid_without_kid', await jwt('ES384', 'ec-384', claims({ sub: 'es384-nokid' })), ['sub', 'iss']),
    ok('es256_next_to_it_valid', await jwt('ES256', 'ec-256', claims({ sub: 'es256-user' }), { kid: 'ec-256' }), ['sub', 'iss']),
    bad('tampered_payload', tamperPayload(g384), 'signature_invalid'),
    bad('tampered_signature', tamperSig(g384), 'signature_invalid'),
    bad('signature_r_s_zero_96_bytes', withSig(g384, Buffer.alloc(96)), 'signature_invalid'),
    bad('es384_token_with_kid_bound_to_es256', await jwt('ES384', 'ec-384', claims(), { kid: 'ec-256' }), 'algorithm_not_allowed'),
    bad('es256_signature_under_es384_header_no_kid', withSig(g384, rawSig('ES256', 'ec-256', parts(g384).slice(0, 2).join('.'))), 'signature_invalid'),
  ]);

  const ed = await jwt('EdDSA', 'ed-1', claims({ sub: 'ed-user' }), { kid: 'ed-1' });
  file('eddsa.json', 'EdDSA (Ed25519) with the ed-1 JWK.', { security: SECURITY, keys: { jwks: { keys: [jwkByKid('ed-1')] } } }, [
    ok('valid_with_kid', ed, ['sub', 'aud']),
    ok('valid_without_kid', await jwt('EdDSA', 'ed-1', claims({ sub: 'ed-nokid' })), ['sub', 'iss']),
    bad('tampered_payload', tamperPayload(ed), 'signature_invalid'),
    bad('tampered_signature', tamperSig(ed), 'signature_invalid'),
    bad('signature_all_zero', withSig(ed, Buffer.alloc(64)), 'signature_invalid'),
    bad('empty_signature', `${parts(ed)[0]}.${parts(ed)[1]}.`, 'signature_invalid'),
    bad('ed25519_alg_name_not_allowed', raw('EdDSA', 'ed-1', { alg: 'Ed25519', kid: 'ed-1' }, claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// pem_keys.json
// ===============================================================================================================
{
  file('pem_keys.json', 'Keys given as `keys.pem` entries ({kid, alg, key}) for RSA, EC and Ed25519.', {
    security: SECURITY,
    keys: {
      pem: [
        { kid: 'p-rsa', alg: 'RS256', key: PEM['rsa-2048'].pub },
        { kid: 'p-ec', alg: 'ES256', key: PEM['ec-p256'].pub },
        { kid: 'p-ec384', alg: 'ES384', key: PEM['ec-p384'].pub },
        { kid: 'p-ed', alg: 'EdDSA', key: PEM.ed25519.pub },
      ],
    },
  }, [
    ok('rs256_pem_valid', await jwt('RS256', 'rsa-1', claims({ sub: 'p1' }), { kid: 'p-rsa' }), ['sub', 'aud']),
    ok('es256_pem_valid', await jwt('ES256', 'ec-256', claims({ sub: 'p2' }), { kid: 'p-ec' }), ['sub', 'aud']),
    ok('es384_pem_valid', await jwt('ES384', 'ec-384', claims({ sub: 'p3' }), { kid: 'p-ec384' }), ['sub', 'aud']),
    ok('eddsa_pem_valid', await jwt('EdDSA', 'ed-1', claims({ sub: 'p4' }), { kid: 'p-ed' }), ['sub', 'aud']),
    bad('rs256_pem_signed_by_other_key', await jwt('RS256', 'rsa-2', claims(), { kid: 'p-rsa' }), 'signature_invalid'),
    bad('eddsa_with_kid_of_ec_key', await jwt('EdDSA', 'ed-1', claims(), { kid: 'p-ec' }), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// algorithms_binding.json: keys without `alg` bound through `algorithms`
// ===============================================================================================================
{
  const noAlg = (kid) => {
    const k = jwkByKid(kid);
    delete k.alg;
    return k;
  };
  file('algorithms_binding.json', 'JWKs without `alg` are bound to the single fitting algorithm of `algorithms`.', {
    security: SECURITY,
    algorithms: ['RS256', 'ES256', 'HS512'],
    keys: { jwks: { keys: [noAlg('rsa-1'), noAlg('ec-256'), octJwk('hs-x', undefined)] } },
  }, [
    ok('rs256_via_algorithms_valid', await jwt('RS256', 'rsa-1', claims({ sub: 'b1' }), { kid: 'rsa-1' }), ['sub', 'aud']),
    ok('es256_via_algorithms_valid', await jwt('ES256', 'ec-256', claims({ sub: 'b2' }), { kid: 'ec-256' }), ['sub', 'aud']),
    ok('hs512_via_algorithms_valid', await jwt('HS512', undefined, claims({ sub: 'b3' }), { kid: 'hs-x' }), ['sub', 'aud']),
    bad('hs256_not_in_algorithms', await jwt('HS256', undefined, claims(), { kid: 'hs-x' }), 'algorithm_not_allowed'),
    bad('ps256_not_in_algorithms', await jwt('PS256', 'rsa-1', claims(), { kid: 'rsa-1' }), 'algorithm_not_allowed'),
    bad('es384_not_in_algorithms', await jwt('ES384', 'ec-384', claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// claims_exp_nbf_iat.json, claims_skew_zero.json
// ===============================================================================================================
{
  const t = (over) => hs(claims(over));
  file('claims_exp_nbf_iat.json', 'exp / nbf / iat boundaries with clock_skew_seconds 60 (expired iff now >= exp + skew).', hsPolicy({ clock_skew_seconds: 60 }), [
    ok('now_is_exp_minus_1_valid', await t({ exp: NOW + 1 }), ['exp', 'sub']),
    ok('now_is_exp_valid_within_skew', await t({ exp: NOW, iat: NOW - 600 }), ['exp', 'sub']),
    ok('now_is_exp_plus_skew_minus_1_valid', await t({ exp: NOW - 59, iat: NOW - 600 }), ['exp', 'sub']),
    bad('now_is_exp_plus_skew_expired', await t({ exp: NOW - 60, iat: NOW - 600 }), 'token_expired'),
    bad('expired_an_hour_ago', await t({ exp: NOW - 3600, iat: NOW - 4000 }), 'token_expired'),
    bad('exp_zero_expired', await t({ exp: 0, iat: undefined }), 'token_expired'),
    bad('exp_negative_expired', await t({ exp: -1, iat: undefined }), 'token_expired'),
    ok('exp_fractional_valid', await t({ exp: NOW + 600.5 }), ['exp', 'sub']),
    bad('exp_fractional_expired', await t({ exp: NOW - 60.5, iat: NOW - 600 }), 'token_expired'),
    bad('exp_missing', await t({ exp: undefined }), 'claim_missing'),
    bad('exp_as_string', await t({ exp: String(NOW + 600) }), 'claim_invalid'),
    bad('exp_null', await t({ exp: null }), 'claim_invalid'),
    bad('exp_boolean', await t({ exp: true }), 'claim_invalid'),
    bad('exp_array', await t({ exp: [NOW + 600] }), 'claim_invalid'),
    ok('nbf_now_valid', await t({ nbf: NOW }), ['nbf', 'sub']),
    ok('nbf_now_plus_skew_valid', await t({ nbf: NOW + 60 }), ['nbf', 'sub']),
    bad('nbf_now_plus_skew_plus_1_not_yet_valid', await t({ nbf: NOW + 61 }), 'token_not_yet_valid'),
    bad('nbf_an_hour_ahead', await t({ nbf: NOW + 3600, exp: NOW + 3700, iat: NOW }), 'token_not_yet_valid'),
    bad('nbf_as_string', await t({ nbf: String(NOW) }), 'claim_invalid'),
    bad('nbf_null', await t({ nbf: null }), 'claim_invalid'),
    ok('iat_now_plus_skew_valid', await t({ iat: NOW + 60 }), ['iat', 'sub']),
    bad('iat_in_future_beyond_skew', await t({ iat: NOW + 61 }), 'claim_invalid'),
    bad('iat_as_string', await t({ iat: String(NOW) }), 'claim_invalid'),
    bad('iat_null', await t({ iat: null }), 'claim_invalid'),
    ok('iat_absent_valid', await t({ iat: undefined }), ['sub', 'exp']),
    bad('expired_and_not_yet_valid_reports_expired', await t({ exp: NOW - 100, nbf: NOW + 100, iat: undefined }), 'token_expired'),
    bad('not_yet_valid_and_iat_future_reports_nbf', await t({ nbf: NOW + 100, iat: NOW + 100 }), 'token_not_yet_valid'),
    bad('expired_and_wrong_issuer_reports_expired', await t({ exp: NOW - 100, iss: 'https://evil.example.com' }), 'token_expired'),
    bad('iat_future_and_wrong_issuer_reports_iat', await t({ iat: NOW + 100, iss: 'https://evil.example.com' }), 'claim_invalid'),
    bad('expired_and_bad_signature_reports_signature', tamperSig(await t({ exp: NOW - 100 })), 'signature_invalid'),
  ]);

  file('claims_skew_zero.json', 'clock_skew_seconds 0: exp and nbf exact.', hsPolicy({ clock_skew_seconds: 0 }), [
    ok('now_is_exp_minus_1_valid', await t({ exp: NOW + 1 }), ['exp', 'sub']),
    bad('now_is_exp_expired', await t({ exp: NOW, iat: NOW - 600 }), 'token_expired'),
    ok('nbf_now_valid', await t({ nbf: NOW }), ['nbf', 'sub']),
    bad('nbf_now_plus_1_not_yet_valid', await t({ nbf: NOW + 1 }), 'token_not_yet_valid'),
    ok('iat_now_valid', await t({ iat: NOW }), ['iat', 'sub']),
    bad('iat_now_plus_1_invalid', await t({ iat: NOW + 1 }), 'claim_invalid'),
  ]);
}

// ===============================================================================================================
// issuer_audience.json
// ===============================================================================================================
{
  const t = (over) => hs(claims(over));
  file('issuer_audience.json', '`iss` exact match; `aud` string or array intersecting the policy audiences; sub/jti types.', hsPolicy(), [
    ok('iss_exact_aud_string', await t({ aud: 'web' }), ['iss', 'aud']),
    ok('aud_array_with_one_match', await t({ aud: ['other', 'mcp'] }), ['aud', 'sub']),
    ok('aud_array_all_match', await t({ aud: ['web', 'api', 'a2a', 'mcp'] }), ['aud', 'sub']),
    bad('iss_different_host', await t({ iss: 'https://evil.example.com' }), 'issuer_invalid'),
    bad('iss_trailing_slash', await t({ iss: `${ISS}/` }), 'issuer_invalid'),
    bad('iss_different_case', await t({ iss: ISS.toUpperCase() }), 'issuer_invalid'),
    bad('iss_http_not_https', await t({ iss: 'http://idp.example.com' }), 'issuer_invalid'),
    bad('iss_empty_string', await t({ iss: '' }), 'issuer_invalid'),
    bad('iss_missing', await t({ iss: undefined }), 'claim_missing'),
    bad('iss_number_42', await t({ iss: 42 }), 'claim_invalid'),
    bad('iss_null', await t({ iss: null }), 'claim_invalid'),
    bad('iss_array', await t({ iss: [ISS] }), 'claim_invalid'),
    bad('aud_string_no_match', await t({ aud: 'billing' }), 'audience_invalid'),
    bad('aud_different_case', await t({ aud: 'API' }), 'audience_invalid'),
    bad('aud_array_no_intersection', await t({ aud: ['billing', 'admin'] }), 'audience_invalid'),
    bad('aud_empty_array', await t({ aud: [] }), 'audience_invalid'),
    bad('aud_empty_string', await t({ aud: '' }), 'audience_invalid'),
    bad('aud_array_with_number', await t({ aud: ['api', 5] }), 'claim_invalid'),
    bad('aud_number', await t({ aud: 5 }), 'claim_invalid'),
    bad('aud_object', await t({ aud: { api: true } }), 'claim_invalid'),
    bad('aud_null', await t({ aud: null }), 'claim_invalid'),
    bad('aud_missing', await t({ aud: undefined }), 'claim_missing'),
    bad('wrong_issuer_and_wrong_audience_reports_issuer', await t({ iss: 'https://evil.example.com', aud: 'billing' }), 'issuer_invalid'),
    bad('sub_number_5', await t({ sub: 5 }), 'claim_invalid'),
    bad('sub_null', await t({ sub: null }), 'claim_invalid'),
    bad('jti_number', await t({ jti: 7 }), 'claim_invalid'),
    bad('wrong_audience_and_sub_number_reports_audience', await t({ aud: 'billing', sub: 5 }), 'audience_invalid'),
  ]);
}

// ===============================================================================================================
// structure.json
// ===============================================================================================================
{
  const P = claims({ sub: 'structure' });
  const H = JSON.stringify(HS_HDR);
  const good = rawSegs('HS256', undefined, b64u(H), enc(P));
  const [gh, gp, gs] = parts(good);
  const mac = (h, p) => rawSegs('HS256', undefined, h, p);

  // padded segments: find a payload whose base64url needs padding.
  let padP = P;
  for (let i = 0; JSON.stringify(padP).length % 3 === 0; i++) padP = claims({ sub: 'structure', jti: `pad-${'x'.repeat(i)}` });
  const pad = (s) => s + '='.repeat((4 - (s.length % 4)) % 4);
  const padPayloadSeg = pad(enc(padP));
  const padHeaderSeg = pad(b64u(H));
  if (!padPayloadSeg.endsWith('=') || !padHeaderSeg.endsWith('=')) throw new Error('padding search failed');

  // standard base64 (+ /) in the payload segment, and in the signature segment.
  let stdP;
  for (let i = 0; ; i++) {
    stdP = claims({ sub: 'structure', jti: `std-???-${i}` });
    if (/[-_]/.test(enc(stdP))) break;
  }
  const stdPayloadSeg = Buffer.from(JSON.stringify(stdP)).toString('base64').replace(/=+$/, '');
  let stdSigTok;
  for (let i = 0; ; i++) {
    stdSigTok = mac(gh, enc(claims({ sub: 'structure', jti: `sig-${i}` })));
    if (/[-_]/.test(parts(stdSigTok)[2])) break;
  }
  const [sh, sp, ss] = parts(stdSigTok);
  const stdSig = Buffer.from(ss, 'base64url').toString('base64').replace(/=+$/, '');
  if (!/[+/]/.test(stdPayloadSeg) || !/[+/]/.test(stdSig)) throw new Error('standard base64 search failed');

  // non-canonical trailing bits in the signature: 43 chars carry 2 unused bits in the last character.
  const ALPH = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = ALPH.indexOf(gs.at(-1));
  const nonCanonSig = gs.slice(0, -1) + ALPH[last | 0x01];
  if (Buffer.from(nonCanonSig, 'base64url').compare(Buffer.from(gs, 'base64url')) !== 0) throw new Error('non-canonical sig decodes differently');

  // JWE (5 parts), built with a fixed key and IV so the output is stable.
  const jweHdr = b64u(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'hs-1' }));
  const iv = Buffer.alloc(12, 7);
  const cipher = crypto.createCipheriv('aes-256-gcm', crypto.createHash('sha256').update(SECRET_BYTES).digest(), iv);
  cipher.setAAD(Buffer.from(jweHdr));
  const ct = Buffer.concat([cipher.update(JSON.stringify(P)), cipher.final()]);
  const jwe = `${jweHdr}..${b64u(iv)}.${b64u(ct)}.${b64u(cipher.getAuthTag())}`;

  const hdrBytes = (s) => Buffer.from(s, 'latin1'); // for raw byte strings with \xNN
  const Pj = JSON.stringify(P).slice(1, -1); // payload members as JSON text, without braces
  const nest = (n, open, close, inner) => open.repeat(n) + inner + close.repeat(n);
  // depth D payload: outer object (level 1) + member n holding D-1 nested containers.
  const objDepth = (d) => ({ ...P, n: JSON.parse(nest(d - 1, '{"n":', '}', '{}').replace(/^\{"n":/, '').replace(/\}$/, '')) });
  const arrDepth = (d) => ({ ...P, n: JSON.parse(nest(d - 1, '[', ']', '').slice(0)) });
  const depthOf = (v) => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
  for (const [f, d] of [[objDepth, 32], [objDepth, 33], [arrDepth, 32], [arrDepth, 33]]) {
    if (depthOf(f(d)) !== d) throw new Error(`depth builder wrong: ${depthOf(f(d))} != ${d}`);
  }
  const hdrDepth33 = { ...HS_HDR, x: JSON.parse(nest(31, '{"x":', '}', '{}')) };
  if (depthOf(hdrDepth33) !== 33) throw new Error(`header depth ${depthOf(hdrDepth33)}`);

  file('structure.json', 'Compact JWS structure: parts, strict base64url, strict JSON, header members. All HS256 with a valid MAC over the exact bytes, so only the named fault remains.', hsPolicy(), [
    ok('reference_valid', good, ['sub', 'aud']),
    bad('empty_token', '', 'token_malformed'),
    bad('one_part', gh, 'token_malformed'),
    bad('two_parts_signature_stripped', `${gh}.${gp}`, 'token_malformed'),
    bad('four_parts', `${good}.${gs}`, 'token_malformed'),
    bad('five_parts_jwe', jwe, 'token_malformed'),
    bad('six_parts', `${good}.${gh}.${gp}`, 'token_malformed'),
    bad('three_empty_parts', '..', 'token_malformed'),
    bad('empty_header_segment', `.${gp}.${gs}`, 'token_malformed'),
    bad('empty_payload_segment', mac(gh, ''), 'token_malformed'),
    bad('header_segment_padded', mac(padHeaderSeg, gp), 'token_malformed'),
    bad('payload_segment_padded', mac(gh, padPayloadSeg), 'token_malformed'),
    bad('signature_segment_padded', `${gh}.${gp}.${gs}=`, 'token_malformed'),
    bad('payload_standard_base64_plus_slash', mac(gh, stdPayloadSeg), 'token_malformed'),
    bad('signature_standard_base64_plus_slash', `${sh}.${sp}.${stdSig}`, 'token_malformed'),
    bad('signature_noncanonical_trailing_bits', `${gh}.${gp}.${nonCanonSig}`, 'token_malformed'),
    bad('signature_impossible_length_41_chars', `${gh}.${gp}.${gs.slice(0, 41)}`, 'token_malformed'),
    bad('space_inside_payload_segment', mac(gh, `${gp.slice(0, 10)} ${gp.slice(10)}`), 'token_malformed'),
    bad('newline_inside_header_segment', mac(`${gh.slice(0, 8)}\n${gh.slice(8)}`, gp), 'token_malformed'),
    bad('tab_inside_signature_segment', `${gh}.${gp}.${gs.slice(0, 20)}\t${gs.slice(20)}`, 'token_malformed'),
    bad('leading_space_before_token', ` ${good}`, 'token_malformed'),
    bad('trailing_newline_after_token', `${good}\n`, 'token_malformed'),
    bad('asterisk_in_payload_segment', mac(gh, `${gp.slice(0, 12)}*${gp.slice(13)}`), 'token_malformed'),
    bad('header_not_json', mac(b64u('not json'), gp), 'token_malformed'),
    bad('payload_not_json', mac(gh, b64u('hello world')), 'token_malformed'),
    bad('payload_truncated_json', mac(gh, b64u(`{${Pj}`)), 'token_malformed'),
    bad('payload_trailing_garbage', mac(gh, b64u(`{${Pj}} x`)), 'token_malformed'),
    bad('payload_trailing_comma', mac(gh, b64u(`{${Pj},}`)), 'token_malformed'),
    bad('payload_with_comment', mac(gh, b64u(`{${Pj} /* c */}`)), 'token_malformed'),
    bad('payload_single_quoted_member', mac(gh, b64u(`{${Pj},'x':1}`)), 'token_malformed'),
    bad('payload_nan_value', mac(gh, b64u(`{${Pj},"x":NaN}`)), 'token_malformed'),
    bad('payload_utf8_bom', mac(gh, b64u(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(P))]))), 'token_malformed'),
    bad('header_json_array', mac(b64u('["HS256"]'), gp), 'token_malformed'),
    bad('header_json_string', mac(b64u('"HS256"'), gp), 'token_malformed'),
    bad('header_json_null', mac(b64u('null'), gp), 'token_malformed'),
    bad('header_json_number', mac(b64u('42'), gp), 'token_malformed'),
    bad('payload_json_array', mac(gh, b64u(JSON.stringify([P]))), 'token_malformed'),
    bad('payload_json_string', mac(gh, b64u('"u1"')), 'token_malformed'),
    bad('payload_json_null', mac(gh, b64u('null')), 'token_malformed'),
    bad('payload_json_true', mac(gh, b64u('true')), 'token_malformed'),
    bad('header_invalid_utf8', mac(b64u(hdrBytes('{"alg":"HS256","kid":"hs-1","x":"\xff\xfe"}')), gp), 'token_malformed'),
    bad('payload_invalid_utf8', mac(gh, b64u(hdrBytes(`{${Pj},"name":"\xc3\x28"}`))), 'token_malformed'),
    bad('payload_overlong_utf8_slash', mac(gh, b64u(hdrBytes(`{${Pj},"path":"\xc0\xaf"}`))), 'token_malformed'),
    bad('header_duplicate_kid', mac(b64u('{"alg":"HS256","kid":"hs-1","kid":"hs-1"}'), gp), 'token_malformed'),
    bad('header_duplicate_alg_none_then_hs256', mac(b64u('{"alg":"none","alg":"HS256","kid":"hs-1"}'), gp), 'token_malformed'),
    bad('payload_duplicate_sub', mac(gh, b64u(`{${Pj},"sub":"admin"}`)), 'token_malformed'),
    bad('payload_duplicate_exp', mac(gh, b64u(`{"exp":${NOW - 1000},${Pj}}`)), 'token_malformed'),
    bad('payload_duplicate_nested_member', mac(gh, b64u(`{${Pj},"ctx":{"role":"user","role":"admin"}}`)), 'token_malformed'),
    bad('payload_duplicate_in_object_inside_array', mac(gh, b64u(`{${Pj},"list":[{"a":1},{"b":1,"b":2}]}`)), 'token_malformed'),
    bad('payload_duplicate_via_unicode_escape', mac(gh, b64u(`{${Pj},"\\u0073ub":"admin"}`)), 'token_malformed'),
    ok('payload_depth_32_objects_valid', await hs(objDepth(32)), ['sub', 'aud']),
    bad('payload_depth_33_objects', await hs(objDepth(33)), 'token_malformed'),
    ok('payload_depth_32_arrays_valid', await hs(arrDepth(32)), ['sub', 'aud']),
    bad('payload_depth_33_arrays', await hs(arrDepth(33)), 'token_malformed'),
    bad('header_depth_33', mac(enc(hdrDepth33), gp), 'token_malformed'),
    bad('header_alg_missing', mac(enc({ kid: 'hs-1' }), gp), 'token_malformed'),
    bad('header_alg_number', mac(enc({ alg: 256, kid: 'hs-1' }), gp), 'token_malformed'),
    bad('header_alg_null', mac(enc({ alg: null, kid: 'hs-1' }), gp), 'token_malformed'),
    bad('header_alg_array', mac(enc({ alg: ['HS256'], kid: 'hs-1' }), gp), 'token_malformed'),
    bad('header_kid_number', mac(enc({ alg: 'HS256', kid: 1 }), gp), 'token_malformed'),
    bad('header_kid_null', mac(enc({ alg: 'HS256', kid: null }), gp), 'token_malformed'),
    bad('header_crit_exp', mac(enc({ ...HS_HDR, crit: ['exp'], exp: NOW + 600 }), gp), 'token_malformed'),
    bad('header_crit_empty_array', mac(enc({ ...HS_HDR, crit: [] }), gp), 'token_malformed'),
    bad('header_crit_b64_false', mac(enc({ ...HS_HDR, b64: false, crit: ['b64'] }), gp), 'token_malformed'),
    ok('header_json_insignificant_whitespace_valid', mac(b64u(' { "alg" : "HS256" ,\n "kid" : "hs-1" } '), gp), ['sub', 'aud']),
    ok('header_unknown_member_ignored_valid', mac(enc({ ...HS_HDR, x_trace: 'abc' }), gp), ['sub', 'aud']),
    ok('payload_unicode_escape_in_value_valid', mac(gh, b64u(`{${JSON.stringify(P).slice(1, -1).replace('"aud":"api"', '"aud":"\\u0061pi"')}}`)), { aud: 'api', sub: 'structure' }),
  ]);
}

// ===============================================================================================================
// attacks.json, attacks_hs_rs_confusion.json
// ===============================================================================================================
{
  const P = claims({ sub: 'victim' });
  const good = await jwt('RS256', 'rsa-1', P, { kid: 'rsa-1' });
  const none = (alg, sig = '') => `${enc({ alg, typ: 'JWT' })}.${enc(P)}.${sig}`;
  const rsaPemBytes = Buffer.from(PEM['rsa-2048'].pub, 'utf8');
  const rsaDer = crypto.createPublicKey(PEM['rsa-2048'].pub).export({ type: 'spki', format: 'der' });
  const attackerJwk = jwkFromPem(PEM['rsa-2048-b'].pub, { kid: 'attacker', alg: 'RS256' });
  const attackerX5c = crypto.createPublicKey(PEM['rsa-2048-b'].pub).export({ type: 'spki', format: 'der' }).toString('base64');
  const forged = (header) => raw('RS256', 'rsa-2', { alg: 'RS256', ...header }, P);
  const kidTok = (kid) => raw('RS256', 'rsa-1', { alg: 'RS256', kid }, P);

  file('attacks.json', 'Known JWT attacks against an RS256 + ES256 policy (no `algorithms`, so the allowed set is {RS256, ES256}).', {
    security: SECURITY,
    keys: { jwks: { keys: [jwkByKid('rsa-1'), jwkByKid('ec-256')] } },
  }, [
    ok('reference_valid', good, ['sub', 'aud']),
    bad('alg_none_lowercase', none('none'), 'algorithm_not_allowed'),
    bad('alg_none_capitalised', none('None'), 'algorithm_not_allowed'),
    bad('alg_none_uppercase', none('NONE'), 'algorithm_not_allowed'),
    bad('alg_none_mixed_case', none('nOnE'), 'algorithm_not_allowed'),
    bad('alg_none_with_original_signature', none('none', parts(good)[2]), 'algorithm_not_allowed'),
    bad('alg_none_with_kid', `${enc({ alg: 'none', kid: 'rsa-1' })}.${enc(P)}.`, 'algorithm_not_allowed'),
    bad('alg_empty_string', `${enc({ alg: '' })}.${enc(P)}.`, 'algorithm_not_allowed'),
    bad('hs256_macd_with_rsa_public_pem_and_kid', raw('HS256', rsaPemBytes, { alg: 'HS256', kid: 'rsa-1' }, P), 'algorithm_not_allowed'),
    bad('hs256_macd_with_rsa_public_pem_no_kid', raw('HS256', rsaPemBytes, { alg: 'HS256' }, P), 'algorithm_not_allowed'),
    bad('hs256_macd_with_rsa_public_der', raw('HS256', rsaDer, { alg: 'HS256' }, P), 'algorithm_not_allowed'),
    bad('es256_r_s_zero_with_kid', `${enc({ alg: 'ES256', kid: 'ec-256' })}.${enc(P)}.${b64u(Buffer.alloc(64))}`, 'signature_invalid'),
    bad('es256_r_s_zero_no_kid', `${enc({ alg: 'ES256' })}.${enc(P)}.${b64u(Buffer.alloc(64))}`, 'signature_invalid'),
    bad('embedded_jwk_attacker_key_no_kid', forged({ jwk: attackerJwk }), 'signature_invalid'),
    bad('embedded_jwk_attacker_key_with_attacker_kid', forged({ kid: 'attacker', jwk: attackerJwk }), 'key_not_found'),
    bad('embedded_jwk_attacker_key_with_victim_kid', forged({ kid: 'rsa-1', jwk: attackerJwk }), 'signature_invalid'),
    bad('jku_attacker_url_no_kid', forged({ jku: 'https://attacker.example/jwks.json' }), 'signature_invalid'),
    bad('jku_attacker_url_with_attacker_kid', forged({ jku: 'https://attacker.example/jwks.json', kid: 'attacker' }), 'key_not_found'),
    bad('x5u_attacker_url', forged({ x5u: 'https://attacker.example/cert.pem' }), 'signature_invalid'),
    bad('x5c_attacker_chain', forged({ x5c: [attackerX5c] }), 'signature_invalid'),
    ok('jku_header_ignored_on_genuine_token', raw('RS256', 'rsa-1', { alg: 'RS256', kid: 'rsa-1', jku: 'https://attacker.example/jwks.json' }, P), ['sub', 'iss']),
    ok('x5c_header_ignored_on_genuine_token', raw('RS256', 'rsa-1', { alg: 'RS256', kid: 'rsa-1', x5c: [attackerX5c] }, P), ['sub', 'iss']),
    bad('kid_path_traversal', kidTok('../../etc/passwd'), 'key_not_found'),
    bad('kid_path_traversal_dev_null', kidTok('../../../../../../dev/null'), 'key_not_found'),
    bad('kid_sql_injection_or', kidTok("' OR '1'='1"), 'key_not_found'),
    bad('kid_sql_injection_union', kidTok("x' UNION SELECT 'secret' --"), 'key_not_found'),
    bad('kid_victim_with_sql_suffix', kidTok("rsa-1' --"), 'key_not_found'),
    bad('kid_empty_string', kidTok(''), 'key_not_found'),
    bad('kid_different_case', kidTok('RSA-1'), 'key_not_found'),
    bad('kid_with_nul_byte', kidTok('rsa-1\u0000'), 'key_not_found'),
    bad('kid_url', kidTok('https://attacker.example/key.pem'), 'key_not_found'),
    bad('empty_signature', `${parts(good)[0]}.${parts(good)[1]}.`, 'signature_invalid'),
    bad('stripped_signature_two_parts', `${parts(good)[0]}.${parts(good)[1]}`, 'token_malformed'),
    bad('signature_from_another_token', withSig(await jwt('RS256', 'rsa-1', claims({ sub: 'admin' }), { kid: 'rsa-1' }), Buffer.from(parts(good)[2], 'base64url')), 'signature_invalid'),
    bad('rs256_token_relabelled_es256_with_rsa_kid', `${enc({ alg: 'ES256', kid: 'rsa-1' })}.${parts(good)[1]}.${parts(good)[2]}`, 'algorithm_not_allowed'),
    bad('rs256_signature_relabelled_es256_no_kid', `${enc({ alg: 'ES256' })}.${parts(good)[1]}.${parts(good)[2]}`, 'signature_invalid'),
    bad('hs256_with_ec_kid', raw('HS256', SECRET_BYTES, { alg: 'HS256', kid: 'ec-256' }, P), 'algorithm_not_allowed'),
  ]);

  file('attacks_hs_rs_confusion.json', 'HS/RS key confusion where HS256 is in `algorithms` but only an RSA key exists.', {
    security: SECURITY,
    algorithms: ['RS256', 'HS256'],
    keys: { pem: [{ kid: 'rsa-1', alg: 'RS256', key: PEM['rsa-2048'].pub }] },
  }, [
    ok('rs256_valid', good, ['sub', 'aud']),
    bad('hs256_macd_with_rsa_pem_no_kid_no_hmac_key', raw('HS256', rsaPemBytes, { alg: 'HS256' }, P), 'key_not_found'),
    bad('hs256_macd_with_rsa_pem_kid_bound_to_rs256', raw('HS256', rsaPemBytes, { alg: 'HS256', kid: 'rsa-1' }, P), 'algorithm_not_allowed'),
    bad('hs256_macd_with_rsa_der_kid_bound_to_rs256', raw('HS256', rsaDer, { alg: 'HS256', kid: 'rsa-1' }, P), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// kid_rotation.json
// ===============================================================================================================
{
  file('kid_rotation.json', 'Rotation: two RSA keys selected by kid, plus an EC key; PS256 allowed but no key bound to it.', {
    security: SECURITY,
    algorithms: ['RS256', 'ES256', 'PS256'],
    keys: { jwks: { keys: [jwkByKid('rsa-1'), jwkByKid('rsa-2'), jwkByKid('ec-256')] } },
  }, [
    ok('old_key_rsa_1_valid', await jwt('RS256', 'rsa-1', claims({ sub: 'old' }), { kid: 'rsa-1' }), ['sub', 'aud']),
    ok('new_key_rsa_2_valid', await jwt('RS256', 'rsa-2', claims({ sub: 'new' }), { kid: 'rsa-2' }), ['sub', 'aud']),
    ok('no_kid_signed_by_rsa_1_tries_all', await jwt('RS256', 'rsa-1', claims({ sub: 'nk1' })), ['sub', 'aud']),
    ok('no_kid_signed_by_rsa_2_tries_all', await jwt('RS256', 'rsa-2', claims({ sub: 'nk2' })), ['sub', 'aud']),
    ok('es256_next_to_rsa_valid', await jwt('ES256', 'ec-256', claims({ sub: 'ec' }), { kid: 'ec-256' }), ['sub', 'aud']),
    bad('kid_rsa_1_but_signed_by_rsa_2', await jwt('RS256', 'rsa-2', claims(), { kid: 'rsa-1' }), 'signature_invalid'),
    bad('kid_rsa_2_but_signed_by_rsa_1', await jwt('RS256', 'rsa-1', claims(), { kid: 'rsa-2' }), 'signature_invalid'),
    bad('no_kid_signed_by_unknown_key', raw('RS256', 'rsa-1024', { alg: 'RS256' }, claims()), 'signature_invalid'),
    bad('retired_kid_rsa_3', await jwt('RS256', 'rsa-1', claims(), { kid: 'rsa-3' }), 'key_not_found'),
    bad('rs256_token_with_kid_bound_to_es256', await jwt('RS256', 'rsa-1', claims(), { kid: 'ec-256' }), 'algorithm_not_allowed'),
    bad('es256_token_with_kid_bound_to_rs256', await jwt('ES256', 'ec-256', claims(), { kid: 'rsa-1' }), 'algorithm_not_allowed'),
    bad('ps256_allowed_but_no_key_bound', await jwt('PS256', 'rsa-1', claims()), 'key_not_found'),
    bad('ps256_with_kid_bound_to_rs256', await jwt('PS256', 'rsa-1', claims(), { kid: 'rsa-1' }), 'algorithm_not_allowed'),
    bad('es384_not_in_algorithms', await jwt('ES384', 'ec-384', claims()), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// skipped_keys.json
// ===============================================================================================================
{
  const ecNoAlg = jwkByKid('ec-256');
  delete ecNoAlg.alg;
  ecNoAlg.kid = 'ec-noalg';
  const enc1 = { ...jwkByKid('rsa-2'), kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP-256' };
  file('skipped_keys.json', 'Keys skipped at load (RSA-1024, use:enc, EC without alg and no `algorithms`) never verify; rsa-1 remains.', {
    security: SECURITY,
    keys: {
      jwks: {
        keys: [jwkFromPem(PEM['rsa-1024'].pub, { kid: 'weak-1', alg: 'RS256' }), enc1, ecNoAlg, jwkByKid('rsa-1')],
      },
    },
  }, [
    ok('remaining_key_valid', await jwt('RS256', 'rsa-1', claims({ sub: 'kept' }), { kid: 'rsa-1' }), ['sub', 'aud']),
    bad('rsa_1024_key_by_kid', raw('RS256', 'rsa-1024', { alg: 'RS256', kid: 'weak-1' }, claims()), 'key_not_found'),
    bad('rsa_1024_key_no_kid', raw('RS256', 'rsa-1024', { alg: 'RS256' }, claims()), 'signature_invalid'),
    bad('encryption_key_by_kid', await jwt('RS256', 'rsa-2', claims(), { kid: 'enc-1' }), 'key_not_found'),
    bad('encryption_key_no_kid', await jwt('RS256', 'rsa-2', claims()), 'signature_invalid'),
    bad('es256_unbound_key_alg_not_allowed', await jwt('ES256', 'ec-256', claims(), { kid: 'ec-noalg' }), 'algorithm_not_allowed'),
  ]);
}

// ===============================================================================================================
// typ.json, typ_unset.json
// ===============================================================================================================
{
  const t = (typ, over = {}) => hs(claims(over), typ === undefined ? {} : { typ });
  const rawTyp = (typ) => raw('HS256', undefined, { ...HS_HDR, typ }, claims());
  file('typ.json', 'Policy `typ: at+jwt` (RFC 9068): case-insensitive, optional `application/` prefix on either side.', hsPolicy({ typ: 'at+jwt' }), [
    ok('typ_exact', await t('at+jwt'), ['sub', 'aud']),
    ok('typ_uppercase', await t('AT+JWT'), ['sub', 'aud']),
    ok('typ_application_prefix', await t('application/at+jwt'), ['sub', 'aud']),
    ok('typ_application_prefix_uppercase_value', await t('application/AT+JWT'), ['sub', 'aud']),
    ok('typ_uppercase_application_prefix', await t('APPLICATION/AT+JWT'), ['sub', 'aud']),
    bad('typ_missing', await t(undefined), 'token_type_invalid'),
    bad('typ_jwt', await t('JWT'), 'token_type_invalid'),
    bad('typ_application_jwt', await t('application/jwt'), 'token_type_invalid'),
    bad('typ_trailing_space', await t('at+jwt '), 'token_type_invalid'),
    bad('typ_double_application_prefix', await t('application/application/at+jwt'), 'token_type_invalid'),
    bad('typ_refresh_jwt', await t('rt+jwt'), 'token_type_invalid'),
    bad('typ_empty_string', await t(''), 'token_type_invalid'),
    bad('typ_number', rawTyp(5), 'token_type_invalid'),
    bad('typ_null', rawTyp(null), 'token_type_invalid'),
    bad('typ_wrong_and_bad_signature_reports_typ', tamperSig(await t('JWT')), 'token_type_invalid'),
    bad('typ_wrong_and_expired_reports_typ', await t('JWT', { exp: NOW - 1000, iat: NOW - 2000 }), 'token_type_invalid'),
    bad('typ_wrong_and_unknown_kid_reports_typ', await hs(claims(), { typ: 'JWT', kid: 'nope' }), 'token_type_invalid'),
    bad('alg_none_and_wrong_typ_reports_alg', `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims())}.`, 'algorithm_not_allowed'),
  ]);

  file('typ_unset.json', 'No `typ` in the policy: any string typ passes, a non-string typ is still token_type_invalid.', hsPolicy(), [
    ok('typ_absent_valid', await t(undefined), ['sub', 'aud']),
    ok('typ_jwt_valid', await t('JWT'), ['sub', 'aud']),
    ok('typ_at_jwt_valid', await t('at+jwt'), ['sub', 'aud']),
    bad('typ_number', rawTyp(1), 'token_type_invalid'),
    bad('typ_object', rawTyp({ v: 'JWT' }), 'token_type_invalid'),
    bad('typ_array', rawTyp(['JWT']), 'token_type_invalid'),
  ]);
}

// ===============================================================================================================
// scopes.json
// ===============================================================================================================
{
  const t = (over) => hs(claims(over));
  const rs = (scopes) => ({ required_scopes: scopes });
  file('scopes.json', '`scope` (string) and `scp` (string or array), split on runs of spaces, union when both; `required_scopes` per case.', hsPolicy(), [
    ok('scope_string_grants_required', await t({ scope: 'tools:read tools:write' }), ['scope', 'sub'], rs(['tools:read'])),
    ok('scope_runs_of_spaces', await t({ scope: 'tools:read    tools:write' }), ['scope', 'sub'], rs(['tools:read', 'tools:write'])),
    ok('scope_leading_and_trailing_spaces', await t({ scope: '  tools:read  ' }), ['scope', 'sub'], rs(['tools:read'])),
    ok('scp_array_grants_required', await t({ scp: ['tools:read', 'tools:write'] }), ['scp', 'sub'], rs(['tools:read', 'tools:write'])),
    ok('scp_string_grants_required', await t({ scp: 'tools:read tools:write' }), ['scp', 'sub'], rs(['tools:write'])),
    ok('scope_and_scp_union', await t({ scope: 'tools:read', scp: ['files:write'] }), ['scope', 'scp'], rs(['tools:read', 'files:write'])),
    ok('no_scope_no_required_scopes_valid', await t({}), ['sub', 'aud']),
    ok('empty_required_scopes_valid', await t({ scope: 'a' }), ['scope', 'sub'], rs([])),
    ok('scope_empty_string_no_requirement_valid', await t({ scope: '' }), ['scope', 'sub']),
    ok('scp_empty_array_no_requirement_valid', await t({ scp: [] }), ['scp', 'sub']),
    bad('scope_missing_required', await t({ scope: 'tools:read' }), 'insufficient_scope', rs(['tools:write'])),
    bad('scope_one_of_two_missing', await t({ scope: 'tools:read' }), 'insufficient_scope', rs(['tools:read', 'tools:write'])),
    bad('scope_and_scp_union_still_missing', await t({ scope: 'a', scp: ['b'] }), 'insufficient_scope', rs(['c'])),
    bad('no_scope_claim_but_required', await t({}), 'insufficient_scope', rs(['tools:read'])),
    bad('scope_case_sensitive', await t({ scope: 'Tools:Read' }), 'insufficient_scope', rs(['tools:read'])),
    bad('scope_prefix_is_not_a_match', await t({ scope: 'tools' }), 'insufficient_scope', rs(['tools:read'])),
    bad('scope_empty_string_required', await t({ scope: '' }), 'insufficient_scope', rs(['tools:read'])),
    bad('scope_number', await t({ scope: 5 }), 'claim_invalid'),
    bad('scope_array', await t({ scope: ['tools:read'] }), 'claim_invalid', rs(['tools:read'])),
    bad('scope_null', await t({ scope: null }), 'claim_invalid'),
    bad('scp_number', await t({ scp: 5 }), 'claim_invalid'),
    bad('scp_array_with_number', await t({ scp: ['tools:read', 5] }), 'claim_invalid'),
    bad('scp_object', await t({ scp: { 'tools:read': true } }), 'claim_invalid'),
    bad('valid_scope_but_bad_scp_type', await t({ scope: 'tools:read', scp: 1 }), 'claim_invalid', rs(['tools:read'])),
    bad('scope_wrong_type_and_expired_reports_expired', await t({ scope: 5, exp: NOW - 1000, iat: NOW - 2000 }), 'token_expired'),
    bad('insufficient_scope_and_wrong_audience_reports_audience', await t({ scope: 'a', aud: 'billing' }), 'audience_invalid', rs(['b'])),
    bad('insufficient_scope_and_lifetime_exceeded_reports_lifetime', await t({ scope: 'a', iat: NOW - 100, exp: NOW + 7200 }), 'token_lifetime_exceeded', rs(['b'])),
  ]);
}

// ===============================================================================================================
// lifetime.json, lifetime_refresh.json, lifetime_default.json
// ===============================================================================================================
{
  const t = (iat, exp, over = {}) => hs(claims({ iat, exp, ...over }));
  file('lifetime.json', 'Access lifetime 3600: with `iat`, exp - iat must not exceed it (no skew).', hsPolicy(), [
    ok('lifetime_exactly_3600', await t(NOW - 100, NOW - 100 + 3600), ['iat', 'exp']),
    ok('lifetime_3599', await t(NOW - 100, NOW - 100 + 3599), ['iat', 'exp']),
    bad('lifetime_3601', await t(NOW - 100, NOW - 100 + 3601), 'token_lifetime_exceeded'),
    bad('lifetime_3600_5_fraction', await t(NOW - 100, NOW - 100 + 3600.5), 'token_lifetime_exceeded'),
    bad('lifetime_skew_not_applied', await t(NOW, NOW + 3600 + 30), 'token_lifetime_exceeded'),
    bad('lifetime_one_year', await t(NOW - 100, NOW + 31536000), 'token_lifetime_exceeded'),
    ok('no_iat_no_lifetime_check', await t(undefined, NOW + 86400 * 30), ['exp', 'sub']),
    ok('exp_before_iat_is_not_lifetime_error', await t(NOW - 10, NOW - 20), ['iat', 'exp']),
    bad('lifetime_exceeded_and_wrong_issuer_reports_issuer', await hs(claims({ iat: NOW - 100, exp: NOW + 7200, iss: 'https://evil.example.com' })), 'issuer_invalid'),
  ]);

  file('lifetime_refresh.json', '`token_kind: refresh` uses jwt_refresh_token_expiration (604800).', hsPolicy({ token_kind: 'refresh' }), [
    ok('refresh_lifetime_exactly_604800', await t(NOW - 100, NOW - 100 + 604800), ['iat', 'exp']),
    ok('refresh_longer_than_access_valid', await t(NOW - 100, NOW - 100 + 86400), ['iat', 'exp']),
    bad('refresh_lifetime_604801', await t(NOW - 100, NOW - 100 + 604801), 'token_lifetime_exceeded'),
    ok('refresh_no_iat_valid', await t(undefined, NOW + 604800 * 4), ['exp', 'sub']),
  ]);

  file('lifetime_default.json', 'No expirations in `security`: access lifetime defaults to 2592000.', {
    security: { jwt_issuer: ISS, jwt_audiences: AUDS },
    keys: { jwks: { keys: [octJwk('hs-1', 'HS256')] } },
  }, [
    ok('default_access_lifetime_exactly_2592000', await t(NOW - 100, NOW - 100 + 2592000), ['iat', 'exp']),
    bad('default_access_lifetime_2592001', await t(NOW - 100, NOW - 100 + 2592001), 'token_lifetime_exceeded'),
  ]);
}

// ===============================================================================================================
// required_claims.json
// ===============================================================================================================
{
  const t = (over) => hs(claims({ tenant_id: 't-1', ...over }));
  file('required_claims.json', '`required_claims: [sub, tenant_id, jti]`: membership only (null counts as present).', hsPolicy({ required_claims: ['sub', 'tenant_id', 'jti'] }), [
    ok('all_present_valid', await t({ roles: ['reader'], session_id: 's-1' }), ['sub', 'tenant_id', 'roles', 'session_id']),
    ok('tenant_id_null_counts_as_present', await t({ tenant_id: null }), ['tenant_id', 'sub']),
    ok('tenant_id_empty_string_valid', await t({ tenant_id: '' }), ['tenant_id', 'sub']),
    ok('tenant_id_object_valid', await t({ tenant_id: { id: 7 } }), ['tenant_id', 'sub']),
    bad('sub_missing', await t({ sub: undefined }), 'claim_missing'),
    bad('tenant_id_missing', await t({ tenant_id: undefined }), 'claim_missing'),
    bad('jti_missing', await t({ jti: undefined }), 'claim_missing'),
    bad('required_missing_and_wrong_audience_reports_audience', await t({ tenant_id: undefined, aud: 'billing' }), 'audience_invalid'),
    bad('required_missing_and_lifetime_exceeded_reports_missing', await t({ tenant_id: undefined, iat: NOW - 100, exp: NOW + 7200 }), 'claim_missing'),
  ]);
}

// ===============================================================================================================
// env_overrides.json, env_only.json, env_lifetime.json, env_secret_hs512.json, secret_env.json, dev_weak_secret.json
// ===============================================================================================================
{
  const tok = (over, alg = 'HS256', secret) => jwt(alg, secret, claims(over));
  file('env_overrides.json', 'The env map overrides the document: JWT_ISSUER, JWT_AUDIENCES (comma list, trimmed), and JWT_SECRET as the one HS256 key (no `keys`).', {
    security: { jwt_issuer: 'https://old-idp.example.com', jwt_access_token_expiration: 3600, jwt_audiences: ['legacy'] },
  }, [
    ok('env_issuer_and_audience_valid', await tok({ aud: 'api' }), ['iss', 'aud']),
    ok('env_audience_trimmed_entry', await tok({ aud: 'mcp' }), ['iss', 'aud']),
    ok('env_audience_first_entry', await tok({ aud: ['web'] }), ['iss', 'aud']),
    bad('document_issuer_overridden', await tok({ iss: 'https://old-idp.example.com' }), 'issuer_invalid'),
    bad('document_audience_overridden', await tok({ aud: 'legacy' }), 'audience_invalid'),
    bad('empty_audience_entry_dropped', await tok({ aud: '' }), 'audience_invalid'),
    bad('jwt_secret_wrong_mac', await tok({}, 'HS256', OTHER_SECRET), 'signature_invalid'),
    bad('hs384_not_allowed_default_hs256', await tok({}, 'HS384'), 'algorithm_not_allowed'),
    bad('rs256_not_allowed', await jwt('RS256', 'rsa-1', claims()), 'algorithm_not_allowed'),
    // A kid no key carries falls back to the kid-less keys of the token's alg (the env secret).
    ok('kid_falls_back_to_kidless_env_secret', await jwt('HS256', undefined, claims({ aud: 'api' }), { kid: 'any-kid' }), ['aud']),
    bad('kid_fallback_still_checks_the_mac', await jwt('HS256', OTHER_SECRET, claims({ aud: 'api' }), { kid: 'any-kid' }), 'signature_invalid'),
  ], { env: { JWT_SECRET: SECRET, JWT_ISSUER: ISS, JWT_AUDIENCES: 'web, api ,,mcp ' } });

  file('env_only.json', 'An empty policy document: every setting comes from the env map.', {}, [
    ok('all_from_env_valid', await tok({ aud: 'a2a', sub: 'env-user' }), ['sub', 'aud']),
    bad('all_from_env_wrong_issuer', await tok({ iss: 'https://other.example.com' }), 'issuer_invalid'),
    bad('default_access_lifetime_from_env_3600', await tok({ iat: NOW - 10, exp: NOW + 3600 }), 'token_lifetime_exceeded'),
  ], { env: { JWT_SECRET: SECRET, JWT_ISSUER: ISS, JWT_AUDIENCES: 'web,api,a2a,mcp', JWT_ACCESS_TOKEN_EXPIRATION: '3600' } });

  file('env_lifetime.json', 'JWT_ACCESS_TOKEN_EXPIRATION "7200" overrides the document 3600.', hsPolicy(), [
    ok('lifetime_7200_valid_via_env', await hs(claims({ iat: NOW - 100, exp: NOW - 100 + 7200 })), ['iat', 'exp']),
    bad('lifetime_7201_exceeded', await hs(claims({ iat: NOW - 100, exp: NOW - 100 + 7201 })), 'token_lifetime_exceeded'),
  ], { env: { JWT_ACCESS_TOKEN_EXPIRATION: '7200' } });

  file('env_secret_hs512.json', 'JWT_SECRET with `algorithms: [HS512]`: the secret is bound to HS512.', { security: SECURITY, algorithms: ['HS512'] }, [
    ok('hs512_valid', await tok({ sub: 's512' }, 'HS512'), ['sub', 'aud']),
    bad('hs256_not_allowed', await tok({}, 'HS256'), 'algorithm_not_allowed'),
  ], { env: { JWT_SECRET: SECRET } });

  file('secret_env.json', '`keys.secret_env` names the env entry holding the HMAC secret.', { security: SECURITY, keys: { secret_env: 'MY_JWT_KEY' } }, [
    ok('secret_env_valid', await tok({ sub: 'se' }, 'HS256', OTHER_SECRET), ['sub', 'aud']),
    bad('jwt_secret_is_not_used_when_secret_env_names_another', await tok({}, 'HS256'), 'signature_invalid'),
  ], { env: { MY_JWT_KEY: OTHER_SECRET.toString('utf8'), JWT_SECRET: SECRET } });

  file('dev_weak_secret.json', 'TOKENWARD_ENV=dev accepts the placeholder JWT_SECRET "changeme" (with a weak_secret warning).', { security: SECURITY }, [
    ok('changeme_secret_valid_in_dev', await tok({ sub: 'dev' }, 'HS256', Buffer.from('changeme')), ['sub', 'aud']),
    bad('other_secret_signature_invalid', await tok({}, 'HS256', SECRET_BYTES), 'signature_invalid'),
  ], { env: { TOKENWARD_ENV: 'dev', JWT_SECRET: 'changeme' } });
}

// ===============================================================================================================
// size.json, size_limit.json
// ===============================================================================================================
{
  // An HS256 token of exactly `len` characters: vary a padding claim and an ignored header member.
  async function ofLength(len, sub) {
    for (let q = 0; q < 4; q++) {
      const header = q === 0 ? {} : { x: 'y'.repeat(q) };
      for (let p = 0; p < len; p++) {
        const payload = claims({ sub, pad: 'p'.repeat(p) });
        const h = enc({ alg: 'HS256', kid: 'hs-1', ...header });
        const total = h.length + 1 + enc(payload).length + 1 + 43;
        if (total === len) {
          const t = await hs(payload, header);
          if (t.length !== len) throw new Error('length mismatch');
          return t;
        }
        if (total > len) break;
      }
    }
    throw new Error(`cannot build token of length ${len}`);
  }
  file('size.json', 'Default max_token_bytes 8192 (inclusive), checked before anything else.', hsPolicy(), [
    ok('exactly_8192_bytes_valid', await ofLength(8192, 'big'), ['sub', 'aud']),
    ok('8191_bytes_valid', await ofLength(8191, 'big'), ['sub', 'aud']),
    bad('8193_bytes_too_large', await ofLength(8193, 'big'), 'token_too_large'),
    bad('garbage_9000_bytes_too_large', 'a'.repeat(9000), 'token_too_large'),
    bad('oversize_alg_none_too_large', `${enc({ alg: 'none' })}.${enc(claims({ pad: 'p'.repeat(9000) }))}.`, 'token_too_large'),
    bad('oversize_five_part_reports_size', `${'a'.repeat(5000)}.${'b'.repeat(5000)}.c.d.e`, 'token_too_large'),
  ]);
  file('size_limit.json', '`max_token_bytes: 1024`: exactly at the limit passes, one over fails.', hsPolicy({ max_token_bytes: 1024 }), [
    ok('exactly_1024_bytes_valid', await ofLength(1024, 'lim'), ['sub', 'aud']),
    ok('1023_bytes_valid', await ofLength(1023, 'lim'), ['sub', 'aud']),
    bad('1025_bytes_too_large', await ofLength(1025, 'lim'), 'token_too_large'),
    bad('2000_bytes_tampered_reports_size', tamperSig(await ofLength(2000, 'lim')), 'token_too_large'),
  ]);
}

// ===============================================================================================================
// policy_*.json (expect_policy, no cases)
// ===============================================================================================================
{
  const pInv = (msg) => (msg ? { valid: false, code: 'policy_invalid', message_contains: msg } : { valid: false, code: 'policy_invalid' });
  const refused = { valid: false, code: 'secret_refused' };
  const okW = (...warnings) => ({ valid: true, warnings });
  const sec = (over) => ({ ...SECURITY, ...over });
  const rsaKeys = { jwks: { keys: [jwkByKid('rsa-1')] } };
  const P = (name, desc, policy, expect, env) => policyFile(`policy_${name}.json`, desc, policy, expect, env ? { env } : {});

  P('valid_full', 'A complete policy with every key type loads without warnings.', {
    security: SECURITY,
    keys: { jwks: JWKS, pem: [{ kid: 'pem-rsa', alg: 'PS256', key: PEM['rsa-2048'].pub }] },
    clock_skew_seconds: 30, max_token_bytes: 4096, required_claims: ['sub'], typ: 'at+jwt', token_kind: 'access',
  }, okW());
  P('access_expiration_zero', 'jwt_access_token_expiration 0 is below the range 1..=31536000.', { security: sec({ jwt_access_token_expiration: 0 }), keys: rsaKeys }, pInv('jwt_access_token_expiration'));
  P('access_expiration_31536001', 'jwt_access_token_expiration 31536001 is above the range.', { security: sec({ jwt_access_token_expiration: 31536001, jwt_refresh_token_expiration: 31536001 }), keys: rsaKeys }, pInv('jwt_access_token_expiration'));
  P('access_expiration_31536000_valid', 'jwt_access_token_expiration 31536000 is the inclusive maximum.', { security: sec({ jwt_access_token_expiration: 31536000, jwt_refresh_token_expiration: 31536000 }), keys: rsaKeys }, okW());
  P('access_expiration_negative', 'A negative access expiration is out of range.', { security: sec({ jwt_access_token_expiration: -1 }), keys: rsaKeys }, pInv('jwt_access_token_expiration'));
  P('access_expiration_string', 'jwt_access_token_expiration must be a number in the document.', { security: sec({ jwt_access_token_expiration: '3600' }), keys: rsaKeys }, pInv('jwt_access_token_expiration'));
  P('refresh_expiration_zero', 'jwt_refresh_token_expiration must be > 0.', { security: sec({ jwt_refresh_token_expiration: 0 }), keys: rsaKeys }, pInv('jwt_refresh_token_expiration'));
  P('refresh_shorter_than_access', 'A refresh lifetime shorter than the access lifetime is inconsistent.', { security: sec({ jwt_access_token_expiration: 3600, jwt_refresh_token_expiration: 1800 }), keys: rsaKeys }, pInv('jwt_refresh_token_expiration'));
  P('refresh_default_shorter_than_access', 'Access 31536000 with the default refresh 15552000: the effective refresh is shorter.', { security: { jwt_issuer: ISS, jwt_audiences: AUDS, jwt_access_token_expiration: 31536000 }, keys: rsaKeys }, pInv('jwt_refresh_token_expiration'));
  P('issuer_missing', 'security.jwt_issuer is required.', { security: { jwt_audiences: AUDS }, keys: rsaKeys }, pInv('jwt_issuer'));
  P('issuer_empty', 'security.jwt_issuer must be non-empty.', { security: sec({ jwt_issuer: '' }), keys: rsaKeys }, pInv('jwt_issuer'));
  P('audiences_empty', 'security.jwt_audiences needs at least one entry.', { security: sec({ jwt_audiences: [] }), keys: rsaKeys }, pInv('jwt_audiences'));
  P('audiences_missing', 'security.jwt_audiences is required.', { security: { jwt_issuer: ISS }, keys: rsaKeys }, pInv('jwt_audiences'));
  P('audiences_empty_string_entry', 'An empty audience string is not an audience.', { security: sec({ jwt_audiences: [''] }), keys: rsaKeys }, pInv('jwt_audiences'));
  P('no_security_no_env', 'Without `security` and without env values there is no issuer.', { keys: rsaKeys }, pInv());
  P('unknown_top_level_field', 'A misspelt top-level field is an error naming it.', { security: SECURITY, keys: rsaKeys, max_token_size: 4096 }, pInv('max_token_size'));
  P('unknown_security_field', 'A misspelt field inside `security` is an error naming it.', { security: { ...SECURITY, jwt_issuers: [ISS] }, keys: rsaKeys }, pInv('jwt_issuers'));
  P('unknown_keys_field', 'A misspelt field inside `keys` is an error naming it.', { security: SECURITY, keys: { ...rsaKeys, pems: [] } }, pInv('pems'));
  P('unknown_pem_entry_field', 'A misspelt field inside a `keys.pem` entry is an error naming it.', { security: SECURITY, keys: { pem: [{ kid: 'k', alg: 'RS256', key: PEM['rsa-2048'].pub, x_key_format: 'spki' }] } }, pInv('x_key_format'));
  P('algorithms_none', '`none` is not an algorithm.', { security: SECURITY, keys: rsaKeys, algorithms: ['none'] }, pInv('algorithms'));
  P('algorithms_lowercase', 'Algorithm names are case-sensitive: `rs256` is unknown.', { security: SECURITY, keys: rsaKeys, algorithms: ['rs256'] }, pInv('algorithms'));
  P('algorithms_empty', 'An empty allow-list is refused rather than meaning "none".', { security: SECURITY, keys: rsaKeys, algorithms: [] }, pInv('algorithms'));
  P('algorithms_encryption_alg', 'An encryption algorithm is not a signature algorithm.', { security: SECURITY, keys: rsaKeys, algorithms: ['RS256', 'RSA-OAEP'] }, pInv('algorithms'));
  P('clock_skew_3601', 'clock_skew_seconds must be 0..=3600.', { security: SECURITY, keys: rsaKeys, clock_skew_seconds: 3601 }, pInv('clock_skew_seconds'));
  P('clock_skew_negative', 'clock_skew_seconds must be 0..=3600.', { security: SECURITY, keys: rsaKeys, clock_skew_seconds: -1 }, pInv('clock_skew_seconds'));
  P('clock_skew_zero_valid', 'clock_skew_seconds 0 is allowed.', { security: SECURITY, keys: rsaKeys, clock_skew_seconds: 0 }, okW());
  P('max_token_bytes_zero', 'max_token_bytes must be 1..=1048576.', { security: SECURITY, keys: rsaKeys, max_token_bytes: 0 }, pInv('max_token_bytes'));
  P('max_token_bytes_too_large', 'max_token_bytes must be 1..=1048576.', { security: SECURITY, keys: rsaKeys, max_token_bytes: 1048577 }, pInv('max_token_bytes'));
  P('token_kind_invalid', 'token_kind is access or refresh.', { security: SECURITY, keys: rsaKeys, token_kind: 'id' }, pInv('token_kind'));
  P('required_claims_not_a_list', 'required_claims is a list of strings.', { security: SECURITY, keys: rsaKeys, required_claims: 'sub' }, pInv('required_claims'));
  P('no_keys_no_secret', 'Neither `keys` nor JWT_SECRET: nothing can verify.', { security: SECURITY }, pInv());
  P('secret_env_names_missing_entry', '`keys.secret_env` names an env entry that is absent.', { security: SECURITY, keys: { secret_env: 'MY_JWT_KEY' } }, pInv());

  // Secrets
  P('short_secret_production', 'A 12-byte JWT_SECRET is refused in production (TOKENWARD_ENV absent).', { security: SECURITY }, refused, { JWT_SECRET: 'short-secret' });
  P('secret_31_bytes_production', 'A 31-byte JWT_SECRET is one short of the minimum.', { security: SECURITY }, refused, { JWT_SECRET: 'k'.repeat(1) + SECRET.slice(0, 30) });
  P('secret_32_bytes_production_valid', 'A 32-byte random JWT_SECRET is accepted.', { security: SECURITY }, okW(), { JWT_SECRET: SECRET.slice(0, 32) });
  P('placeholder_changeme', 'The placeholder "changeme" is refused in production.', { security: SECURITY }, refused, { JWT_SECRET: 'changeme' });
  P('placeholder_your_256_bit_secret', 'The jwt.io placeholder "your-256-bit-secret" is refused.', { security: SECURITY }, refused, { JWT_SECRET: 'your-256-bit-secret' });
  P('placeholder_repeated_char_40', 'One character repeated 40 times is a placeholder even though it is long enough.', { security: SECURITY }, refused, { JWT_SECRET: 'a'.repeat(40) });
  P('placeholder_uppercase_changeme', 'Placeholders compare case-insensitively.', { security: SECURITY }, refused, { JWT_SECRET: 'CHANGEME' });
  P('placeholder_in_production_explicit', 'TOKENWARD_ENV=production refuses a placeholder.', { security: SECURITY }, refused, { JWT_SECRET: 'your-secret-key', TOKENWARD_ENV: 'production' });
  P('placeholder_development_is_not_dev', 'Only the exact value "dev" means dev: "development" is production.', { security: SECURITY }, refused, { JWT_SECRET: 'changeme', TOKENWARD_ENV: 'development' });
  P('short_secret_dev_warns', 'In dev a short JWT_SECRET loads with weak_secret.', { security: SECURITY }, okW('weak_secret'), { JWT_SECRET: 'short-secret', TOKENWARD_ENV: 'dev' });
  P('placeholder_changeme_dev_warns', 'In dev "changeme" loads with weak_secret.', { security: SECURITY }, okW('weak_secret'), { JWT_SECRET: 'changeme', TOKENWARD_ENV: 'dev' });
  P('placeholder_your_256_bit_secret_dev_warns', 'In dev "your-256-bit-secret" loads with weak_secret.', { security: SECURITY }, okW('weak_secret'), { JWT_SECRET: 'your-256-bit-secret', TOKENWARD_ENV: 'dev' });
  P('placeholder_repeated_char_dev_warns', 'In dev 40 x "a" loads with weak_secret.', { security: SECURITY }, okW('weak_secret'), { JWT_SECRET: 'a'.repeat(40), TOKENWARD_ENV: 'dev' });
  P('oct_jwk_short_k_production', 'An oct JWK whose k is 16 bytes is refused in production.', { security: SECURITY, keys: { jwks: { keys: [octJwk('hs-short', 'HS256', Buffer.from('0123456789abcdef'))] } } }, refused);
  P('oct_jwk_short_k_dev_warns', 'The same oct JWK loads in dev with weak_secret.', { security: SECURITY, keys: { jwks: { keys: [octJwk('hs-short', 'HS256', Buffer.from('0123456789abcdef'))] } } }, okW('weak_secret'), { TOKENWARD_ENV: 'dev' });
  P('oct_jwk_placeholder_k', 'An oct JWK whose k decodes to "your-256-bit-secret" is refused.', { security: SECURITY, keys: { jwks: { keys: [octJwk('hs-ph', 'HS256', Buffer.from('your-256-bit-secret'))] } } }, refused);
  P('secret_env_short_production', '`secret_env` secrets follow the same rules.', { security: SECURITY, keys: { secret_env: 'MY_JWT_KEY' } }, refused, { MY_JWT_KEY: 'tiny' });

  // Keys
  P('rsa_1024_skipped_next_to_good_key', 'An RSA-1024 JWK is skipped with key_skipped; rsa-1 remains.', { security: SECURITY, keys: { jwks: { keys: [jwkFromPem(PEM['rsa-1024'].pub, { kid: 'weak-1', alg: 'RS256' }), jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('rsa_1024_pem_skipped', 'An RSA-1024 PEM entry is skipped too.', { security: SECURITY, keys: { pem: [{ kid: 'weak-1', alg: 'RS256', key: PEM['rsa-1024'].pub }, { kid: 'rsa-1', alg: 'RS256', key: PEM['rsa-2048'].pub }] } }, okW('key_skipped'));
  P('rsa_1024_only_key', 'A policy whose only key is RSA-1024 has no usable key.', { security: SECURITY, keys: { jwks: { keys: [jwkFromPem(PEM['rsa-1024'].pub, { kid: 'weak-1', alg: 'RS256' })] } } }, pInv());
  P('use_enc_skipped', 'A `use: enc` key never verifies: skipped.', { security: SECURITY, keys: { jwks: { keys: [{ ...jwkByKid('rsa-2'), use: 'enc', alg: 'RSA-OAEP-256' }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('use_enc_without_alg_skipped', 'A `use: enc` key without alg is skipped even when `algorithms` would bind it.', { security: SECURITY, algorithms: ['RS256'], keys: { jwks: { keys: [{ ...jwkByKid('rsa-2'), use: 'enc', alg: undefined }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('key_ops_without_verify_skipped', 'A key whose key_ops lacks "verify" is skipped.', { security: SECURITY, keys: { jwks: { keys: [{ ...jwkByKid('rsa-2'), use: undefined, key_ops: ['encrypt'] }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  {
    const ecNoAlg = jwkByKid('ec-256');
    delete ecNoAlg.alg;
    P('jwk_without_alg_no_algorithms_skipped', 'A JWK without alg and no `algorithms` cannot be bound: skipped.', { security: SECURITY, keys: { jwks: { keys: [ecNoAlg, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
    P('jwk_without_alg_only_key', 'The same JWK as the only key leaves no usable key.', { security: SECURITY, keys: { jwks: { keys: [ecNoAlg] } } }, pInv());
    P('jwk_without_alg_bound_by_algorithms_valid', 'With `algorithms: [ES256]` the alg-less EC key binds to ES256.', { security: SECURITY, algorithms: ['ES256'], keys: { jwks: { keys: [ecNoAlg] } } }, okW());
    const rsaNoAlg = jwkByKid('rsa-2');
    delete rsaNoAlg.alg;
    P('jwk_without_alg_two_fitting_skipped', 'An alg-less RSA key with RS256 and PS256 allowed fits two algorithms: skipped.', { security: SECURITY, algorithms: ['RS256', 'PS256', 'ES256'], keys: { jwks: { keys: [rsaNoAlg, jwkByKid('ec-256')] } } }, okW('key_skipped'));
    P('oct_without_alg_two_hs_algorithms_skipped', 'An alg-less oct key with HS256 and HS512 allowed: skipped.', { security: SECURITY, algorithms: ['HS256', 'HS512', 'RS256'], keys: { jwks: { keys: [octJwk('hs-x', undefined), jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  }
  P('jwk_alg_outside_algorithms_skipped', 'A JWK whose alg is not in `algorithms` is skipped.', { security: SECURITY, algorithms: ['RS256'], keys: { jwks: { keys: [jwkByKid('ec-256'), jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('jwk_alg_wrong_curve_skipped', 'A P-384 key labelled ES256 does not fit its alg: skipped.', { security: SECURITY, keys: { jwks: { keys: [{ ...jwkByKid('ec-384'), kid: 'ec-mislabelled', alg: 'ES256' }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('jwk_alg_wrong_kty_skipped', 'An RSA key labelled ES256 does not fit its alg: skipped.', { security: SECURITY, keys: { jwks: { keys: [{ ...jwkByKid('rsa-2'), kid: 'rsa-mislabelled', alg: 'ES256' }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('jwk_unsupported_curve_skipped', 'An X25519 (OKP, encryption) key is skipped.', { security: SECURITY, keys: { jwks: { keys: [{ kty: 'OKP', crv: 'X25519', kid: 'x-1', x: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo' }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('jwk_undecodable_skipped', 'An RSA JWK whose n is not base64url is skipped.', { security: SECURITY, keys: { jwks: { keys: [{ ...jwkByKid('rsa-2'), kid: 'broken', n: '***' }, jwkByKid('rsa-1')] } } }, okW('key_skipped'));
  P('repeated_kid_later_skipped', 'A repeated kid: the later key is skipped.', { security: SECURITY, keys: { jwks: { keys: [jwkByKid('rsa-1'), { ...jwkByKid('rsa-2'), kid: 'rsa-1' }] } } }, okW('key_skipped'));
  P('dev_weak_secret_and_skipped_key', 'Warnings accumulate: a short oct key in dev plus an RSA-1024 key.', { security: SECURITY, keys: { jwks: { keys: [octJwk('hs-short', 'HS256', Buffer.from('0123456789abcdef')), jwkFromPem(PEM['rsa-1024'].pub, { kid: 'weak-1', alg: 'RS256' })] } } }, okW('weak_secret', 'key_skipped'), { TOKENWARD_ENV: 'dev' });

  // Env overrides making the effective value invalid (or valid)
  P('env_access_expiration_zero', 'JWT_ACCESS_TOKEN_EXPIRATION "0" overrides a valid document value.', { security: SECURITY, keys: rsaKeys }, pInv('between 1 and 31536000'), { JWT_ACCESS_TOKEN_EXPIRATION: '0' });
  P('env_access_expiration_not_a_number', 'JWT_ACCESS_TOKEN_EXPIRATION "1h" is not an integer.', { security: SECURITY, keys: rsaKeys }, pInv(), { JWT_ACCESS_TOKEN_EXPIRATION: '1h' });
  P('env_refresh_shorter_than_access', 'JWT_REFRESH_TOKEN_EXPIRATION "60" is shorter than the access 3600.', { security: SECURITY, keys: rsaKeys }, pInv(), { JWT_REFRESH_TOKEN_EXPIRATION: '60' });
  P('env_audiences_only_separators', 'JWT_AUDIENCES " , ," leaves no audience after dropping empty entries.', { security: SECURITY, keys: rsaKeys }, pInv(), { JWT_AUDIENCES: ' , ,' });
  P('env_issuer_empty', 'JWT_ISSUER "" overrides the document issuer with an empty one.', { security: SECURITY, keys: rsaKeys }, pInv(), { JWT_ISSUER: '' });
  P('env_fixes_invalid_document', 'The document access expiration 0 is overridden by a valid env value.', { security: sec({ jwt_access_token_expiration: 0 }), keys: rsaKeys }, okW(), { JWT_ACCESS_TOKEN_EXPIRATION: '3600' });
  P('env_supplies_everything', 'An empty document with issuer, audiences and secret from the env.', {}, okW(), { JWT_ISSUER: ISS, JWT_AUDIENCES: 'api', JWT_SECRET: SECRET });
}

// ---------------------------------------------------------------------------------------------------------------
// Write
// ---------------------------------------------------------------------------------------------------------------
for (const f of readdirSync(vectorsDir)) if (f.endsWith('.json')) unlinkSync(join(vectorsDir, f));
let total = 0;
let policyFiles = 0;
const seen = new Set();
for (const [name, f] of files) {
  if (seen.has(name)) throw new Error(`duplicate file ${name}`);
  seen.add(name);
  if (f.cases) {
    const names = new Set();
    for (const c of f.cases) {
      if (names.has(c.name)) throw new Error(`${name}: duplicate case ${c.name}`);
      names.add(c.name);
      if (c.expect.valid && (!c.expect.claims || Object.keys(c.expect.claims).length < 1)) throw new Error(`${name}: ${c.name} has no claims`);
    }
    total += f.cases.length;
    console.log(`${name.padEnd(40)} ${f.cases.length}`);
  } else {
    policyFiles += 1;
  }
  writeFileSync(join(vectorsDir, name), `${JSON.stringify(f, null, 2)}\n`);
}
console.log(`${files.length} files: ${total} token cases, ${policyFiles} policy files`);

// Request-level vectors (request_*.json), written after the token files (the loop above deletes every *.json).
await import('./requests.mjs');
