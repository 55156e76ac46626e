// sign(): tokens minted by tokenward verify under jose and under tokenward; weak secrets are
// refused in production exactly as the core refuses them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as jose from 'jose';
import { Verifier, sign, TokenwardError } from '../dist/node.mjs';

const keys = new URL('../../vectors/keys/', import.meta.url);
const pem = (name) => readFileSync(new URL(name, keys), 'utf8');
const ISS = 'https://idp.example.com';
const STRONG = 'k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj';
const now = Math.floor(Date.now() / 1000);

const ASYM = [
  { alg: 'RS256', priv: 'rsa-2048.private.pem', pub: 'rsa-2048.public.pem' },
  { alg: 'ES256', priv: 'ec-p256.private.pem', pub: 'ec-p256.public.pem' },
  { alg: 'EdDSA', priv: 'ed25519.private.pem', pub: 'ed25519.public.pem' },
];

function policyFor(alg, pub) {
  return {
    security: { jwt_issuer: ISS, jwt_audiences: ['api'] },
    algorithms: [alg],
    keys: { pem: [{ kid: `${alg}-1`, alg, key: pem(pub) }] },
  };
}

const claims = { iss: ISS, sub: 'user-42', aud: 'api', scope: ['tools:read', 'tools:write'], roles: ['admin'], client_id: 'cli' };

for (const { alg, priv, pub } of ASYM) {
  test(`${alg}: minted by tokenward, verified by jose and tokenward`, async () => {
    const policy = policyFor(alg, pub);
    const token = sign(claims, { pem: pem(priv), alg, kid: `${alg}-1` }, { policy, expiresIn: 600 });
    const header = jose.decodeProtectedHeader(token);
    assert.deepEqual(header, { alg, typ: 'JWT', kid: `${alg}-1` });

    const key = await jose.importSPKI(pem(pub), alg);
    const { payload } = await jose.jwtVerify(token, key, { issuer: ISS, audience: 'api', algorithms: [alg] });
    assert.equal(payload.sub, 'user-42');
    assert.equal(payload.scope, 'tools:read tools:write');
    assert.equal(payload.client_id, 'cli');
    assert.equal(payload.exp - payload.iat, 600);
    assert.match(payload.jti, /^[0-9a-f-]{36}$/);

    const v = new Verifier(policy);
    assert.equal(v.verify(token, { requiredScopes: ['tools:write'] }).sub, 'user-42');
    assert.equal((await v.verifyAsync(token)).roles[0], 'admin');
    assert.equal(new Verifier(policy, { crypto: 'wasm' }).verify(token).sub, 'user-42');
  });
}

test('HS256: a strong secret signs; jose and tokenward verify', async () => {
  const env = { JWT_SECRET: STRONG };
  const policy = { security: { jwt_issuer: ISS, jwt_audiences: ['api', 'web'] } };
  const v = new Verifier(policy, { env });
  const t1 = sign({ ...claims, aud: ['api', 'web'] }, { secretEnv: 'JWT_SECRET' }, { verifier: v, expiresIn: 60 });
  const t2 = sign(claims, STRONG, { policy, env, expiresIn: 60 });
  const secret = new TextEncoder().encode(STRONG);
  for (const t of [t1, t2]) {
    const { payload, protectedHeader } = await jose.jwtVerify(t, secret, { issuer: ISS, audience: 'api' });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, 'user-42');
    assert.equal(v.verify(t).sub, 'user-42');
  }
});

test('weak secrets: refused in production with secret_refused, warned in dev', () => {
  const policy = { security: { jwt_issuer: ISS, jwt_audiences: ['api'] } };
  const prodEnv = { JWT_SECRET: STRONG };
  for (const weak of ['short', 'changeme', 'a'.repeat(40), 'abcabcabcabcabcabcabcabcabcabcabcabc']) {
    assert.throws(
      () => sign(claims, weak, { policy, env: prodEnv, expiresIn: 60 }),
      (e) => e instanceof TokenwardError && e.code === 'secret_refused' && e.status === 500 && /SigningKey::from_secret/.test(e.message),
      weak,
    );
  }
  // From the environment: the refusal names the variable, as the policy loader does.
  assert.throws(
    () => sign(claims, { secretEnv: 'WEAK' }, { policy, env: { ...prodEnv, WEAK: 'changeme' }, expiresIn: 60 }),
    (e) => e.code === 'secret_refused' && /WEAK/.test(e.message),
  );
  const devEnv = { JWT_SECRET: 'changeme', TOKENWARD_ENV: 'dev' };
  const warnings = [];
  const token = sign(claims, 'changeme', { policy, env: devEnv, expiresIn: 60, onWarning: (w) => warnings.push(w.code) });
  assert.deepEqual(warnings, ['weak_secret']);
  assert.equal(new Verifier(policy, { env: devEnv }).verify(token).sub, 'user-42');
});

test('claims the policy would reject are refused', () => {
  const env = { JWT_SECRET: STRONG };
  const policy = { security: { jwt_issuer: ISS, jwt_audiences: ['api'], jwt_access_token_expiration: 900 } };
  const code = (fn) => {
    try {
      fn();
    } catch (e) {
      return e.code;
    }
    return 'signed';
  };
  const s = (c, o = {}) => () => sign(c, STRONG, { policy, env, expiresIn: 60, ...o });
  assert.equal(code(s({ ...claims, iss: 'https://evil.example' })), 'issuer_invalid');
  assert.equal(code(s({ ...claims, aud: 'other' })), 'audience_invalid');
  assert.equal(code(s(claims, { expiresIn: 901 })), 'token_lifetime_exceeded');
  assert.equal(code(s({ ...claims, sub: undefined })), 'claim_missing');
  assert.equal(code(s({ ...claims, sub: 42 })), 'claim_invalid');
  assert.equal(code(s(claims, { expiresIn: undefined })), 'claim_missing'); // no exp
  assert.equal(code(() => sign(claims, { pem: pem('rsa-1024.private.pem'), alg: 'RS256' }, { policy: policyFor('RS256', 'rsa-2048.public.pem'), expiresIn: 60 })), 'key_invalid');
  assert.equal(code(() => sign(claims, { pem: pem('ec-p256.private.pem'), alg: 'ES256' }, { policy, env, expiresIn: 60 })), 'algorithm_not_allowed');
  assert.throws(() => sign(claims, { pem: pem('ec-p256.private.pem') }, { policy, env }), TypeError);
  assert.throws(() => sign(claims, STRONG, {}), TypeError);
});
