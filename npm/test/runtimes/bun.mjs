// Bun: `import 'tokenward'` resolves the bun condition (dist/node.mjs, node:crypto provider).
import * as api from 'tokenward';
import { vectorSets } from '../files.mjs';
import { runAll } from './report.mjs';

if (api.runtime !== 'node') throw new Error(`expected the node entry under Bun, got ${api.runtime}`);
if (typeof Bun === 'undefined') throw new Error('not running under Bun');
const failed = await runAll(`bun ${Bun.version}`, api, vectorSets());
process.exit(failed === 0 ? 0 : 1);
