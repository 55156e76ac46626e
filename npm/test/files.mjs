// Reads the vector files for the Node-side runners: ../vectors/*.json, plus every *.json in
// $TOKENWARD_VECTORS_DIR when set (which must then hold at least one).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const workspaceDir = fileURLToPath(new URL('../../vectors/', import.meta.url));

function readDir(dir, label) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: `${label}${f}`, data: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

/** [{ label, files }] for the workspace corpus and the extra directory. */
export function vectorSets() {
  const sets = [{ label: 'vectors/', files: readDir(workspaceDir, 'vectors/') }];
  const extra = process.env.TOKENWARD_VECTORS_DIR;
  if (extra) {
    const files = readDir(extra, `${extra}/`);
    if (files.length === 0) throw new Error(`TOKENWARD_VECTORS_DIR=${extra} holds no *.json file`);
    sets.push({ label: extra, files });
  }
  return sets;
}
