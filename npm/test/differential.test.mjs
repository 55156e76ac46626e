// Differential test: tokens minted by jose (a seeded generator over algorithms, keys, times,
// issuers and audiences, at most one fault each) must get the same accept/reject from
// tokenward (both providers) as from jose's jwtVerify with equivalent options, and for single
// faults jose can name, the matching tokenward code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as jose from 'jose';
import { Verifier } from 'tokenward';

const keysDir = new URL('../../vectors/keys/', import.meta.url);
const read = (name) => readFileSync(new URL(name, keysDir), 'utf8');
const NOW = 1_767_225_600;
const SKEW = 60;
const ISS = 'https://idp.example.com';
const AUDS = ['api', 'mcp'];
const CASES = 400;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const secret = read('hmac.secret');
const jwks = JSON.parse(read('jwks.json'));
const policy = {
  security: { jwt_issuer: ISS, jwt_audiences: AUDS, jwt_access_token_expiration: 86400 },
  clock_skew_seconds: SKEW,
  keys: {
    jwks: {
      keys: [
        ...jwks.keys.filter((k) => ['rsa-1', 'ec-256', 'ec-384', 'ed-1'].includes(k.kid)),
        { kty: 'oct', kid: 'hs-1', alg: 'HS256', k: Buffer.from(secret).toString('base64url') },
      ],
    },
    pem: [{ kid: 'ps-1', alg: 'PS256', key: read('rsa-2048-b.public.pem') }],
  },
};

async function setup() {
  const priv = async (file, alg) => jose.importPKCS8(read(file), alg);
  const pub = async (file, alg) => jose.importSPKI(read(file), alg);
  const hs = new TextEncoder().encode(secret);
  const algs = {
    HS256: { kid: 'hs-1', sign: hs, verify: hs },
    RS256: { kid: 'rsa-1', sign: await priv('rsa-2048.private.pem', 'RS256'), verify: await pub('rsa-2048.public.pem', 'RS256') },
    PS256: { kid: 'ps-1', sign: await priv('rsa-2048-b.private.pem', 'PS256'), verify: await pub('rsa-2048-b.public.pem', 'PS256') },
    ES256: { kid: 'ec-256', sign: await priv('ec-p256.private.pem', 'ES256'), verify: await pub('ec-p256.public.pem', 'ES256') },
    ES384: { kid: 'ec-384', sign: await priv('ec-p384.private.pem', 'ES384'), verify: await pub('ec-p384.public.pem', 'ES384') },
    EdDSA: { kid: 'ed-1', sign: await priv('ed25519.private.pem', 'EdDSA'), verify: await pub('ed25519.public.pem', 'EdDSA') },
  };
  for (const [alg, k] of Object.entries(algs)) {
    k.wrong = alg === 'HS256'
      ? new TextEncoder().encode('a-different-secret-of-at-least-32-bytes!')
      : (await jose.generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {})).privateKey;
  }
  return algs;
}

const FAULTS = ['none', 'none', 'none', 'wrong_key', 'expired', 'not_yet', 'issuer', 'audience', 'exp_edge', 'nbf_edge', 'no_kid'];
// jose's error (code, claim) -> the tokenward code for that single fault.
function expectedCode(err) {
  if (err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'signature_invalid';
  if (err.code === 'ERR_JWT_EXPIRED') return 'token_expired';
  if (err.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    return { nbf: 'token_not_yet_valid', iss: 'issuer_invalid', aud: 'audience_invalid' }[err.claim];
  }
  return undefined;
}

test(`jose differential over ${CASES} generated tokens`, async () => {
  const algs = await setup();
  const names = Object.keys(algs);
  const rand = rng(20260101);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const verifiers = [new Verifier(policy), new Verifier(policy, { crypto: 'wasm' })];
  const mismatches = [];
  const tally = { accepted: 0, rejected: 0 };
  for (let i = 0; i < CASES; i++) {
    const alg = pick(names);
    const fault = pick(FAULTS);
    const k = algs[alg];
    const iat = NOW - int(0, 3000);
    let exp = NOW + int(1, 7200);
    let nbf = rand() < 0.3 ? NOW - int(0, 600) : undefined;
    let iss = ISS;
    let aud = rand() < 0.5 ? pick(AUDS) : [pick(['web', 'a2a']), pick(AUDS)];
    if (fault === 'expired') exp = NOW - SKEW - int(0, 5000);
    if (fault === 'exp_edge') exp = NOW - SKEW + int(0, 1); // -SKEW: expired; -SKEW+1: valid
    if (fault === 'not_yet') nbf = NOW + SKEW + int(1, 5000);
    if (fault === 'nbf_edge') nbf = NOW + SKEW + int(0, 1); // +SKEW: valid; +SKEW+1: not yet
    if (fault === 'issuer') iss = pick(['https://evil.example.com', `${ISS}/`, 'https://IDP.example.com']);
    if (fault === 'audience') aud = rand() < 0.5 ? 'web' : ['web', 'a2a'];
    const payload = { iss, aud, sub: `user-${i}`, iat, exp, scope: 'read', jti: `j-${i}` };
    if (nbf !== undefined) payload.nbf = nbf;
    const header = { alg, typ: 'JWT' };
    if (fault !== 'no_kid') header.kid = k.kid;
    const token = await new jose.SignJWT(payload)
      .setProtectedHeader(header)
      .sign(fault === 'wrong_key' ? k.wrong : k.sign);

    let joseError;
    try {
      await jose.jwtVerify(token, k.verify, {
        algorithms: [alg],
        issuer: ISS,
        audience: AUDS,
        currentDate: new Date(NOW * 1000),
        clockTolerance: SKEW,
        requiredClaims: ['exp', 'iss', 'aud'],
      });
    } catch (e) {
      joseError = e;
    }
    joseError ? tally.rejected++ : tally.accepted++;
    for (const v of verifiers) {
      let ours;
      try {
        v.verify(token, { now: NOW });
      } catch (e) {
        ours = e;
      }
      const where = `case ${i} (${alg}, ${fault}, ${v.crypto.sync})`;
      if (!joseError && ours) mismatches.push(`${where}: jose accepts, tokenward rejects with ${ours.code}: ${ours.message}`);
      else if (joseError && !ours) mismatches.push(`${where}: jose rejects (${joseError.code} ${joseError.claim ?? ''}), tokenward accepts`);
      else if (joseError) {
        const want = expectedCode(joseError);
        if (want && ours.code !== want) mismatches.push(`${where}: jose ${joseError.code} ${joseError.claim ?? ''} -> ${want}, tokenward ${ours.code}`);
      }
    }
  }
  assert.deepEqual(mismatches, [], mismatches.join('\n'));
  // The generator must exercise both outcomes, or the comparison proves little.
  assert.ok(tally.accepted > CASES / 5 && tally.rejected > CASES / 5, JSON.stringify(tally));
});
