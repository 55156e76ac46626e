// The CommonJS entry carries the whole API: sign, remote JWKS, discovery and the adapters.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const api = require('../dist/node.cjs');

test('CJS entry: sign, secret refusal, remote JWKS; every export present', async () => {
  const { checkExtras } = await import('./runtimes/report.mjs');
  assert.deepEqual(await checkExtras(api), []);
  for (const name of ['Verifier', 'sign', 'createRemoteJwks', 'discover', 'expressAuth', 'fastifyAuth', 'honoAuth']) {
    assert.equal(typeof api[name], 'function', name);
  }
});
