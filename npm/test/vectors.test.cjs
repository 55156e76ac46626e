// The shared vectors through the CommonJS entry (`require('tokenward')` resolves dist/node.cjs).
const assert = require('node:assert/strict');
const { describe, test } = require('node:test');
const api = require('tokenward');

test('the CommonJS entry is the node build', () => {
  assert.equal(api.runtime, 'node');
  assert.equal(typeof api.Verifier, 'function');
});

describe('CommonJS', async () => {
  const { vectorSets } = await import('./files.mjs');
  const { MODES, runVectors } = await import('./suite.mjs');
  for (const { label, files } of vectorSets()) {
    for (const mode of MODES) {
      test(`${label} ${mode.label}`, async () => {
        const tally = await runVectors(api, files, mode);
        assert.ok(tally.cases + tally.policyFiles > 0, 'no vector ran');
        assert.deepEqual(tally.failures, [], `${tally.failures.length} failure(s):\n${tally.failures.join('\n')}`);
      });
    }
  }
});
