// The Express, Fastify and Hono adapters with each real framework on 127.0.0.1 (Hono through
// node:http via its fetch handler): deny with the decision's status, WWW-Authenticate and JSON
// body; allow with the decision on req.auth / request.auth / c.get('auth').
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { Verifier, sign, expressAuth, fastifyAuth, honoAuth } from '../dist/node.mjs';

const ISS = 'https://idp.example.com';
const SECRET = 'k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj';
const env = { JWT_SECRET: SECRET };
const policy = {
  security: { jwt_issuer: ISS, jwt_audiences: ['api'] },
  routes: [
    { path: '/health', auth_mode: 'disabled' },
    { path: '/admin', scopes: { all_of: ['admin'] } },
  ],
};
const verifier = new Verifier(policy, { env });
const good = sign({ iss: ISS, sub: 'alice', aud: 'api', scope: 'read' }, SECRET, { policy, env, expiresIn: 300 });
const admin = sign({ iss: ISS, sub: 'root', aud: 'api', scope: 'admin' }, SECRET, { policy, env, expiresIn: 300 });
const expired = sign({ iss: ISS, sub: 'alice', aud: 'api', iat: 1_000_000 }, SECRET, { policy, env, expiresIn: 300 });

// Node http server in front of a fetch handler (Hono), with the body as a string.
function nodeFetchServer(fetchHandler) {
  return createServer(async (req, res) => {
    const response = await fetchHandler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(await response.text());
  });
}

async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${server.address().port}`;
}

async function checks(base) {
  const get = (path, token) => fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  let r = await get('/api');
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(await r.json(), { error: 'token_missing', error_description: 'no bearer token was presented' });

  r = await get('/api', expired);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.equal((await r.json()).error, 'token_expired');

  r = await get('/admin', good);
  assert.equal(r.status, 403);
  assert.match(r.headers.get('www-authenticate'), /insufficient_scope/);
  assert.equal((await r.json()).error, 'insufficient_scope');

  r = await get('/api', good);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { sub: 'alice', subject: 'alice', scopes: ['read'] });

  r = await get('/admin', admin);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).sub, 'root');

  r = await get('/health');
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { sub: null, subject: null, scopes: [] });
}

const body = (auth) => ({ sub: auth.claims?.sub ?? null, subject: auth.subject ?? null, scopes: auth.scopes });

describe('Express', () => {
  let server;
  let base;
  before(async () => {
    const app = express();
    app.use(expressAuth(verifier));
    app.get(['/api', '/admin', '/health'], (req, res) => res.json(body(req.auth)));
    server = createServer(app);
    base = await listen(server);
  });
  after(() => server.close());
  test('deny and allow', () => checks(base));
});

describe('Fastify', () => {
  let app;
  let base;
  before(async () => {
    app = Fastify();
    await app.register(fastifyAuth(verifier));
    for (const path of ['/api', '/admin', '/health']) app.get(path, async (request) => body(request.auth));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());
  test('deny and allow', () => checks(base));
});

describe('Hono', () => {
  let server;
  let base;
  before(async () => {
    const app = new Hono();
    app.use('*', honoAuth(verifier));
    for (const path of ['/api', '/admin', '/health']) app.get(path, (c) => c.json(body(c.get('auth'))));
    server = nodeFetchServer(app.fetch);
    base = await listen(server);
  });
  after(() => server.close());
  test('deny and allow', () => checks(base));
  test('through app.request (the edge runtimes path) as well', async () => {
    const app = new Hono();
    app.use('*', honoAuth(verifier, { property: 'user' }));
    app.get('/api', (c) => c.text(c.get('user').subject));
    const r = await app.request('/api', { headers: { authorization: `Bearer ${good}` } });
    assert.equal(await r.text(), 'alice');
  });
});
