// Deno: the deno entry (dist/deno.mjs) over the shared suite; WebCrypto is the async provider.
import * as api from '../../dist/deno.mjs';
import { vectorSets } from '../files.mjs';
import { runAll } from './report.mjs';

if (api.runtime !== 'deno') throw new Error(`expected the deno entry, got ${api.runtime}`);
const failed = await runAll('deno', api, vectorSets());
Deno.exit(failed === 0 ? 0 : 1);
