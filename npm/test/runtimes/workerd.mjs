// Cloudflare workerd (npm `workerd`): serves test/runtimes/worker.mjs with the workerd entry
// (dist/workerd.mjs + the wasm as a compiled module) on 127.0.0.1, then (1) runs the shared
// vectors inside the worker and (2) sends real HTTP requests carrying the token cases of a few
// vector files and checks status, WWW-Authenticate and body of each answer.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorSets, workspaceDir } from '../files.mjs';
import { freePort } from './serve.mjs';

const npm = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(npm, '.test-tmp', 'workerd');
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'runtimes'), { recursive: true });
copyFileSync(join(npm, 'dist/workerd.mjs'), join(dir, 'tokenward.mjs'));
copyFileSync(join(npm, 'dist/tokenward.wasm'), join(dir, 'tokenward.wasm'));
copyFileSync(join(npm, 'test/suite.mjs'), join(dir, 'suite.mjs'));
copyFileSync(join(npm, 'test/runtimes/report.mjs'), join(dir, 'runtimes/report.mjs'));
copyFileSync(join(npm, 'test/runtimes/worker.mjs'), join(dir, 'worker.mjs'));
writeFileSync(join(dir, 'vectors.json'), JSON.stringify(vectorSets()));

// Request cases: the plain compact tokens of these files (no required scopes: authorize takes
// scopes from routes), expected to get the same code over HTTP as from verify.
const HTTP_FILES = ['rs256.json', 'es256.json', 'eddsa.json', 'hs256.json'];
const first = JSON.parse(readFileSync(join(workspaceDir, HTTP_FILES[0]), 'utf8'));

const port = await freePort();
writeFileSync(
  join(dir, 'config.capnp'),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "tokenward.mjs", esModule = embed "tokenward.mjs"),
    (name = "tokenward.wasm", wasm = embed "tokenward.wasm"),
    (name = "suite.mjs", esModule = embed "suite.mjs"),
    (name = "runtimes/report.mjs", esModule = embed "runtimes/report.mjs"),
    (name = "vectors.json", json = embed "vectors.json"),
    (name = "auth.json", json = embed "auth.json"),
  ],
  compatibilityDate = "2025-09-01",
);
`,
);

const workerdBin = join(npm, 'node_modules/.bin/workerd');
let failed = 0;
let child;
async function startWith(policyFile) {
  writeFileSync(join(dir, 'auth.json'), JSON.stringify(policyFile));
  child = spawn(workerdBin, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/__ping`);
      return;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('workerd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
async function stop() {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

try {
  await startWith(first);
  const res = await fetch(`http://127.0.0.1:${port}/__suite`);
  const text = await res.text();
  console.log(text);
  if (res.status !== 200) failed += 1;
  await stop();

  for (const name of HTTP_FILES) {
    const file = JSON.parse(readFileSync(join(workspaceDir, name), 'utf8'));
    await startWith(file);
    let n = 0;
    let bad = 0;
    let native = 0;
    for (const c of file.cases) {
      if (c.request || (c.required_scopes ?? []).length > 0 || !/^[A-Za-z0-9_.-]+$/.test(c.token)) continue;
      n += 1;
      const r = await fetch(`http://127.0.0.1:${port}/api/resource`, { headers: { authorization: `Bearer ${c.token}` } });
      const body = await r.json();
      const want = c.expect;
      const problems = [];
      if (want.valid ?? true) {
        if (r.status !== 200) problems.push(`expected 200, got ${r.status} ${JSON.stringify(body)}`);
        else native = body.native;
      } else {
        if (want.status && r.status !== want.status) problems.push(`expected status ${want.status}, got ${r.status}`);
        if (want.code && body.error !== want.code) problems.push(`expected error ${want.code}, got ${body.error}`);
        if (!(r.headers.get('www-authenticate') ?? '').startsWith('Bearer')) problems.push('no Bearer challenge');
      }
      for (const p of problems) console.log(`    ${name}: case ${c.name}: ${p}`);
      if (problems.length) bad += 1;
    }
    console.log(`${bad === 0 && n > 0 ? 'ok' : 'not ok'} - workerd HTTP ${name}: ${n} request(s), ${bad} failure(s), ${native} native signature check(s)`);
    if (bad > 0 || n === 0) failed += 1;
    await stop();
  }
} finally {
  await stop();
}
process.exit(failed === 0 ? 0 : 1);
