// Remote JWKS and OIDC discovery against a real HTTP server on 127.0.0.1: the core's JwksCache
// decides when to fetch (initial, expiry, retry, unknown kid under a cooldown), this package
// fetches; the last good key set survives errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import { Verifier, createRemoteJwks, discover } from '../dist/node.mjs';

const ISS = 'https://idp.example.com';
const policy = { security: { jwt_issuer: ISS, jwt_audiences: ['api'] }, algorithms: ['ES256', 'RS256'] };

const server = { status: 200, body: '{"keys":[]}', hits: 0, discovery: null };
let base;
let http;
before(async () => {
  http = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration' && server.discovery) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(server.discovery));
    }
    if (req.url !== '/jwks') {
      res.writeHead(404);
      return res.end();
    }
    server.hits += 1;
    res.writeHead(server.status, { 'content-type': 'application/json' });
    res.end(server.status === 200 ? server.body : 'oops');
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${http.address().port}`;
});
after(() => http.close());

const keys = {};
async function key(kid, alg = 'ES256') {
  if (!keys[kid]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    keys[kid] = { alg, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }
  return keys[kid];
}
async function serve(...kids) {
  server.status = 200;
  server.body = JSON.stringify({ keys: await Promise.all(kids.map(async (k) => (await key(k)).jwk)) });
}
async function token(kid, sub = 'alice') {
  const k = await key(kid);
  return new jose.SignJWT({ sub })
    .setProtectedHeader({ alg: k.alg, kid })
    .setIssuer(ISS)
    .setAudience('api')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(k.privateKey);
}
const codeOf = (p) => p.then(() => 'ok', (e) => e.code);

test('first fetch, rotation through an unknown kid, cooldown, 500 keeps the last good set', async () => {
  await serve('a');
  server.hits = 0;
  let t = 1_000_000;
  const jwks = createRemoteJwks(`${base}/jwks`, { maxAge: 600, cooldown: 30, clock: () => t });
  const v = new Verifier(policy, { jwks });
  assert.equal(server.hits, 0, 'nothing is fetched before the first use');

  // verifyAsync awaits the initial fetch.
  assert.equal((await v.verifyAsync(await token('a'))).sub, 'alice');
  assert.equal(server.hits, 1);
  assert.equal(v.jwks.generation, 1);

  // Within max-age nothing is refetched.
  t += 100;
  await v.verifyAsync(await token('a'));
  assert.equal(server.hits, 1);

  // Rotation: kid b is unknown, the cooldown since the last fetch is over: one refetch, then valid.
  await serve('a', 'b');
  assert.equal((await v.verifyAsync(await token('b', 'bob'))).sub, 'bob');
  assert.equal(server.hits, 2);
  assert.equal(v.jwks.generation, 2);

  // A flood of random kids inside the cooldown costs no fetch.
  t += 5;
  for (let i = 0; i < 5; i++) assert.equal(await codeOf(v.verifyAsync(await token(`x${i}`))), 'key_not_found');
  assert.equal(server.hits, 2);
  // ...and authorize answers the same way, as a decision.
  const d = await v.authorizeAsync({ method: 'GET', url: '/api', headers: { authorization: `Bearer ${await token('x9')}` } });
  assert.equal(d.code, 'key_not_found');
  assert.equal(d.status, 401);
  assert.equal(server.hits, 2);

  // After the cooldown the unknown kid refetches once (still unknown: key_not_found).
  t += 30;
  assert.equal(await codeOf(v.verifyAsync(await token('x0'))), 'key_not_found');
  assert.equal(server.hits, 3);
  assert.equal(v.jwks.generation, 3); // every good fetch loads a set, even an unchanged one

  // Expiry with the server failing: the fetch fails, the last good set keeps validating.
  server.status = 500;
  t += 700;
  assert.equal((await v.verifyAsync(await token('b', 'bob'))).sub, 'bob');
  await new Promise((r) => setTimeout(r, 50)); // let the background refresh report
  assert.equal(server.hits, 4);
  const status = v.jwks;
  assert.equal(status.lastError.code, 'jwks_invalid');
  assert.match(status.lastError.message, /HTTP 500/);
  assert.equal(status.generation, 3);
  assert.equal(v.verify(await token('a')).sub, 'alice');

  // No retry within the cooldown; after it, a retry; a body that is not a key set keeps the old set.
  t += 10;
  await v.verifyAsync(await token('a'));
  assert.equal(server.hits, 4);
  server.status = 200;
  server.body = '{"not":"a jwks"}';
  t += 30;
  await v.verifyAsync(await token('a'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.hits, 5);
  assert.match(v.jwks.lastError.message, /keys/);
  assert.equal(v.verify(await token('b')).sub, 'alice');

  // Recovery: the next retry loads the new set (kid a gone).
  await serve('b', 'c');
  t += 30;
  assert.equal((await v.verifyAsync(await token('c', 'carol'))).sub, 'carol');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(v.jwks.generation, 4);
  assert.equal(v.jwks.lastError, undefined);
  assert.equal(await codeOf(v.verifyAsync(await token('a'))), 'key_not_found');
  v.free();
});

test('authorizeAsync: rotation through the request path; claims on allow', async () => {
  await serve('a');
  let t = 2_000_000;
  const v = new Verifier(policy, { jwks: createRemoteJwks(`${base}/jwks`, { cooldown: 10, clock: () => t }) });
  const req = async (kid) => ({ method: 'GET', url: '/api', headers: { authorization: `Bearer ${await token(kid)}` } });
  assert.equal((await v.authorizeAsync(await req('a'))).subject, 'alice');
  await serve('a', 'd');
  t += 10;
  const d = await v.authorizeAsync(await req('d'));
  assert.equal(d.allowed, true);
  assert.equal(d.claims.sub, 'alice');
  v.free();
});

test('no key set: verifyAsync / authorizeAsync reject with jwks_invalid; sync calls start the fetch', async () => {
  server.status = 500;
  let t = 3_000_000;
  const v = new Verifier(policy, { jwks: createRemoteJwks(`${base}/jwks`, { cooldown: 30, clock: () => t }) });
  const e = await v.verifyAsync(await token('a')).catch((x) => x);
  assert.equal(e.code, 'jwks_invalid');
  assert.match(e.message, /no key set loaded yet; last attempt: fetch failed: HTTP 500/);
  assert.equal(await codeOf(v.authorizeAsync({ url: '/', headers: {} })), 'jwks_invalid');
  await assert.rejects(v.ready(), (x) => x.code === 'jwks_invalid');

  // The sync verify throws while nothing is loaded, but the cache's retry fetch starts.
  await serve('a');
  t += 30;
  assert.throws(() => v.verify('x.y.z'), (x) => x.code === 'jwks_invalid');
  await v.ready();
  assert.equal(v.verify(await token('a')).sub, 'alice');
  v.free();

  // A connection refused is a fetch error too.
  const dead = new Verifier(policy, { jwks: createRemoteJwks('http://127.0.0.1:9/jwks') });
  const err = await dead.verifyAsync(await token('a')).catch((x) => x);
  assert.equal(err.code, 'jwks_invalid');
  assert.match(err.message, /fetch failed/);
});

test('a custom fetch is used; a key set that does not load is reported', async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push([url, init.headers.accept]);
    return new Response(JSON.stringify({ keys: [(await key('a')).jwk] }));
  };
  const v = new Verifier(policy, { jwks: createRemoteJwks('https://idp.example.com/jwks', { fetch }) });
  assert.equal((await v.verifyAsync(await token('a'))).sub, 'alice');
  assert.deepEqual(calls, [['https://idp.example.com/jwks', 'application/jwk-set+json, application/json']]);
  assert.throws(() => createRemoteJwks(42), TypeError);
  assert.throws(() => new Verifier(policy, { jwks: { url: 'x' } }), TypeError);
});

test('OIDC discovery: the jwks_uri of the issuer; the issuer must match exactly', async () => {
  server.discovery = { issuer: base, jwks_uri: `${base}/jwks` };
  assert.deepEqual(await discover(base), { issuer: base, jwksUri: `${base}/jwks` });
  assert.deepEqual(await discover(`${base}/`).catch((e) => e.code), 'discovery_invalid'); // trailing / matters
  server.discovery = { issuer: base, jwks_uri: 'http://evil.example/jwks' };
  const e = await discover(base).catch((x) => x);
  assert.equal(e.code, 'discovery_invalid');
  assert.match(e.message, /https/);
  assert.equal(await discover('http://127.0.0.1:9').catch((x) => x.code), 'discovery_invalid');

  // discover -> createRemoteJwks -> Verifier.
  server.discovery = { issuer: base, jwks_uri: `${base}/jwks` };
  await serve('a');
  const { jwksUri } = await discover(base);
  const v = new Verifier(policy, { jwks: createRemoteJwks(jwksUri) });
  assert.equal((await v.verifyAsync(await token('a'))).sub, 'alice');
});
