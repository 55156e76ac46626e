// Benchmark (not a test): `verify` ops/s on the same tokens (HS256, RS256, ES256, EdDSA, ~300-byte
// payload) for tokenward, jose, fast-jwt and jsonwebtoken, with the raw node:crypto signature
// check as the floor; then the wasm size and the cold start of import + first verify.
// Run: npm run build && node bench/verify.mjs [--time-ms 1000]
import { execFileSync } from 'node:child_process';
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify as cverify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import { Verifier } from 'tokenward';

const arg = process.argv.indexOf('--time-ms');
const TIME_MS = arg > 0 ? Number(process.argv[arg + 1]) : 1000;
const keysDir = new URL('../../vectors/keys/', import.meta.url);
const read = (name) => readFileSync(new URL(name, keysDir), 'utf8');
const NOW = 1_767_225_600;
const ISS = 'https://idp.example.com';
const AUD = 'api';
const secret = read('hmac.secret');

const SETUPS = {
  HS256: { kid: 'hs-1', priv: () => new TextEncoder().encode(secret), pubPem: null },
  RS256: { kid: 'rsa-1', privPem: 'rsa-2048.private.pem', pubPem: 'rsa-2048.public.pem' },
  ES256: { kid: 'ec-256', privPem: 'ec-p256.private.pem', pubPem: 'ec-p256.public.pem' },
  EdDSA: { kid: 'ed-1', privPem: 'ed25519.private.pem', pubPem: 'ed25519.public.pem' },
};

function payload() {
  // ~300 bytes of JSON.
  return {
    iss: ISS,
    aud: AUD,
    sub: 'user-0123456789abcdef',
    iat: NOW - 60,
    exp: NOW + 3600,
    jti: 'b0c1d2e3-f405-4617-8829-3a4b5c6d7e8f',
    scope: 'tools:read tools:write files:read',
    email: 'someone@example.com',
    tenant_id: 'tenant-42',
    roles: ['admin', 'editor'],
    session_id: 'sess-9f8e7d6c5b4a',
    name: 'A. Person',
  };
}

function bench(fn) {
  // Warm up, then count calls in TIME_MS. Sync functions only (async ones are wrapped below).
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(TIME_MS) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function benchAsync(fn) {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(TIME_MS) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const rows = [];
for (const [alg, s] of Object.entries(SETUPS)) {
  const signKey = alg === 'HS256' ? new TextEncoder().encode(secret) : await jose.importPKCS8(read(s.privPem), alg);
  const token = await new jose.SignJWT(payload()).setProtectedHeader({ alg, kid: s.kid, typ: 'JWT' }).sign(signKey);
  const payloadBytes = Buffer.from(token.split('.')[1], 'base64url').length;
  const pem = s.pubPem ? read(s.pubPem) : null;
  const policy = {
    security: { jwt_issuer: ISS, jwt_audiences: [AUD] },
    keys: alg === 'HS256'
      ? { jwks: { keys: [{ kty: 'oct', kid: s.kid, alg, k: Buffer.from(secret).toString('base64url') }] } }
      : { pem: [{ kid: s.kid, alg, key: pem }] },
  };
  const tw = new Verifier(policy);
  const twWasm = new Verifier(policy, { crypto: 'wasm' });
  const joseKey = alg === 'HS256' ? new TextEncoder().encode(secret) : await jose.importSPKI(pem, alg);
  const fast = createVerifier({
    key: alg === 'HS256' ? secret : pem,
    algorithms: [alg],
    allowedIss: ISS,
    allowedAud: AUD,
    clockTimestamp: NOW * 1000,
  });
  const jwtKey = alg === 'HS256' ? secret : pem;
  const nodeKey = alg === 'HS256' ? createSecretKey(Buffer.from(secret)) : createPublicKey(pem);
  const [h, p, sig] = token.split('.');
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  const raw = {
    HS256: () => {
      const mac = createHmac('sha256', nodeKey).update(data).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    },
    RS256: () => cverify('sha256', data, nodeKey, signature),
    ES256: () => cverify('sha256', data, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, signature),
    EdDSA: () => cverify(null, data, nodeKey, signature),
  }[alg];

  // Sanity: every contender accepts the token.
  tw.verify(token, { now: NOW });
  twWasm.verify(token, { now: NOW });
  await jose.jwtVerify(token, joseKey, { issuer: ISS, audience: AUD, currentDate: new Date(NOW * 1000), algorithms: [alg] });
  fast(token);
  // jsonwebtoken 9 has no EdDSA.
  const jwtOk = alg !== 'EdDSA';
  if (jwtOk) jsonwebtoken.verify(token, jwtKey, { algorithms: [alg], issuer: ISS, audience: AUD, clockTimestamp: NOW });
  if (!raw()) throw new Error(`raw ${alg} check failed`);

  const r = { alg, payloadBytes };
  r.tokenward = bench(() => tw.verify(token, { now: NOW }));
  r.tokenwardWasm = bench(() => twWasm.verify(token, { now: NOW }));
  r.jose = await benchAsync(() =>
    jose.jwtVerify(token, joseKey, { issuer: ISS, audience: AUD, currentDate: new Date(NOW * 1000), algorithms: [alg] }),
  );
  r.fastJwt = bench(() => fast(token));
  r.jsonwebtoken = jwtOk
    ? bench(() => jsonwebtoken.verify(token, jwtKey, { algorithms: [alg], issuer: ISS, audience: AUD, clockTimestamp: NOW }))
    : NaN;
  r.raw = bench(raw);
  rows.push(r);
  console.error(`${alg} done`);
}

const fmt = (n) => (Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const x = (a, b) => `${(a / b).toFixed(2)}x`;
const lines = [];
lines.push(
  '| alg | payload B | tokenward (auto) | tokenward (wasm crypto) | jose | fast-jwt | jsonwebtoken | raw node:crypto | tw / jose | tw / fast-jwt | tw / raw |',
);
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  lines.push(
    `| ${r.alg} | ${r.payloadBytes} | ${fmt(r.tokenward)} | ${fmt(r.tokenwardWasm)} | ${fmt(r.jose)} | ${fmt(r.fastJwt)} | ${fmt(r.jsonwebtoken)} | ${fmt(r.raw)} | ${x(r.tokenward, r.jose)} | ${x(r.tokenward, r.fastJwt)} | ${x(r.tokenward, r.raw)} |`,
  );
}
console.log(`ops/s, ${TIME_MS} ms per cell, Node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cores)\n`);
console.log(lines.join('\n'));

const wasmPath = new URL('../dist/tokenward.wasm', import.meta.url);
const wasm = readFileSync(wasmPath);
console.log(`\nwasm: ${statSync(wasmPath).size} bytes raw, ${gzipSync(wasm, { level: 9 }).length} bytes gzip -9`);

// Cold start: a fresh process importing the package and verifying one token, minus a bare node.
const hs = rows.length ? await new jose.SignJWT(payload()).setProtectedHeader({ alg: 'HS256', kid: 'hs-1' }).sign(new TextEncoder().encode(secret)) : '';
const script = `
const t0 = performance.now();
const { Verifier } = await import('tokenward');
const t1 = performance.now();
const v = new Verifier(${JSON.stringify({
  security: { jwt_issuer: ISS, jwt_audiences: [AUD] },
  keys: { jwks: { keys: [{ kty: 'oct', kid: 'hs-1', alg: 'HS256', k: Buffer.from(secret).toString('base64url') }] } },
})});
v.verify(${JSON.stringify(hs)}, { now: ${NOW} });
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstVerifyMs: t2 - t1 }));`;
const runs = [];
for (let i = 0; i < 5; i++) {
  runs.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url) }).toString()));
}
const median = (a) => a.sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log(
  `cold start (median of 5 fresh processes): import ${median(runs.map((r) => r.importMs)).toFixed(1)} ms, ` +
    `new Verifier + first verify ${median(runs.map((r) => r.firstVerifyMs)).toFixed(1)} ms`,
);
