// The shared vectors through the ESM entry (`import 'tokenward'` resolves dist/node.mjs), under
// node:crypto (sync and async) and the in-wasm provider.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as api from 'tokenward';
import { vectorSets } from './files.mjs';
import { MODES, runVectors } from './suite.mjs';

test('the ESM entry is the node build', () => {
  assert.equal(api.runtime, 'node');
  assert.equal(typeof api.Verifier.fromEnv, 'function');
});

for (const { label, files } of vectorSets()) {
  describe(`ESM ${label}`, () => {
    for (const mode of MODES) {
      test(mode.label, async () => {
        const tally = await runVectors(api, files, mode);
        assert.ok(tally.cases + tally.policyFiles > 0, 'no vector ran');
        assert.deepEqual(tally.failures, [], `${tally.failures.length} failure(s):\n${tally.failures.join('\n')}`);
        if (label === 'vectors/') {
          assert.ok(tally.cases >= 150, `only ${tally.cases} token cases`);
          assert.ok(tally.policyFiles >= 15, `only ${tally.policyFiles} policy files`);
        }
      });
    }
  });
}
