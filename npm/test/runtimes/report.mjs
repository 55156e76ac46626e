// Runs every mode of the shared suite over the vector sets and prints one line per set and mode;
// returns the number of failures (the caller sets the exit code). Used by Deno, Bun, workerd and
// Chromium runners.
import { MODES, runVectors } from '../suite.mjs';

export async function runAll(runtime, api, sets, print = console.log) {
  let failed = 0;
  for (const { label, files } of sets) {
    for (const mode of MODES) {
      const t = await runVectors(api, files, mode);
      const ok = t.failures.length === 0 && t.cases + t.policyFiles > 0;
      print(`${ok ? 'ok' : 'not ok'} - ${runtime} ${label} ${mode.label}: ${t.cases} case(s), ${t.policyFiles} policy file(s), ${t.failures.length} failure(s); signatures: ${t.native} native, ${t.fallback} native-import fallbacks to wasm`);
      for (const f of t.failures) print(`    ${f}`);
      if (!ok) failed += Math.max(1, t.failures.length);
    }
  }
  return failed;
}
