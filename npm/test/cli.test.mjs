// The tokenward command: keygen -> sign -> verify round trip, the explanation of a rejection,
// exit codes (0 ok, 1 rejected, 2 usage) and stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';

const cli = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const ISS = 'https://idp.example.com';
const env = { ...process.env, TOKENWARD_ENV: '', JWT_SECRET: '' };
delete env.TOKENWARD_ENV;
delete env.JWT_SECRET;

function run(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('package.json bin points at the CLI', () => {
  assert.deepEqual(pkg.bin, { tokenward: './dist/cli.mjs' });
  assert.match(readFileSync(cli, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  test(`keygen ${alg} -> sign -> verify (tokenward and jose)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenward-cli-'));
    let r = run('keygen', '--alg', alg, '--out', dir);
    assert.equal(r.code, 0, r.err);
    const jwks = JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8'));
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].alg, alg);
    assert.equal(jwks.keys[0].d, undefined, 'the JWKS holds no private member');
    const kid = jwks.keys[0].kid;
    assert.match(r.out, new RegExp(`kid ${kid}`));
    assert.equal(run('keygen', '--alg', alg, '--out', dir).code, 2, 'no overwrite without --force');

    const claims = JSON.stringify({ iss: ISS, sub: 'alice', aud: 'api', scope: 'read' });
    r = run('sign', '--key', join(dir, 'private.pem'), '--claims', claims, '--expires-in', '600');
    assert.equal(r.code, 0, r.err);
    const token = r.out.trim();
    assert.equal(jose.decodeProtectedHeader(token).kid, kid);
    const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), { issuer: ISS, audience: 'api' });
    assert.equal(payload.exp - payload.iat, 600);

    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ security: { jwt_issuer: ISS, jwt_audiences: ['api'] }, algorithms: [alg], keys: { jwks } }));
    r = run('verify', token, '--policy', policy);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^valid: every check passed\n/);
    assert.equal(JSON.parse(r.out.slice(r.out.indexOf('\n') + 1)).sub, 'alice');

    // Rejections: exit 1, the explanation on stderr.
    r = run('verify', token, '--policy', policy, '--now', String(payload.exp + 3600));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^rejected: token_expired \(HTTP 401\)\n/);
    assert.match(r.err, /check: {3}claims \(claim exp: check_failed\)/);
    assert.match(r.err, /www-authenticate: Bearer error="invalid_token"/);

    r = run('verify', token, '--policy', policy, '--scope', 'write', '--json');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out);
    assert.equal(j.code, 'insufficient_scope');
    assert.equal(j.check, 'scopes');
    assert.equal(j.status, 403);
  });
}

test('verify explains signature and issuer failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-cli-'));
  run('keygen', '--alg', 'ES256', '--out', join(dir, 'a'));
  run('keygen', '--alg', 'ES256', '--out', join(dir, 'b'), '--kid', 'same');
  const jwksA = JSON.parse(readFileSync(join(dir, 'a', 'jwks.json'), 'utf8'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `security:\n  jwt_issuer: ${ISS}\n  jwt_audiences: [api]\nalgorithms: [ES256]\nkeys:\n  jwks: ${JSON.stringify({ keys: [{ ...jwksA.keys[0], kid: 'same' }] })}\n`);
  const claims = JSON.stringify({ iss: ISS, sub: 'mallory', aud: 'api' });
  const forged = run('sign', '--key', join(dir, 'b', 'private.pem'), '--claims', claims).out.trim();
  let r = run('verify', forged, '--policy', policy);
  assert.equal(r.code, 1);
  assert.match(r.err, /rejected: signature_invalid/);
  assert.match(r.err, /check: {3}signature/);

  const other = run('sign', '--key', join(dir, 'b', 'private.pem'), '--claims', JSON.stringify({ iss: 'https://evil.example', sub: 'x', aud: 'api' })).out.trim();
  r = run('verify', other, '--policy', policy);
  assert.equal(r.code, 1);
  assert.match(r.err, /rejected: (signature_invalid|issuer_invalid)/);

  r = run('verify', 'not-a-token', '--policy', policy);
  assert.equal(r.code, 1);
  assert.match(r.err, /rejected: token_malformed \(HTTP 401\)\n {2}check: {3}structure/);
});

test('sign: HMAC secret files; weak secrets refused in production (exit 1), warned in dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-cli-'));
  assert.equal(run('keygen', '--alg', 'HS256', '--out', dir).code, 0);
  const claims = JSON.stringify({ iss: ISS, sub: 'svc', aud: ['api', 'web'] });
  let r = run('sign', '--key', join(dir, 'hmac.secret'), '--claims', claims);
  assert.equal(r.code, 0, r.err);
  const secret = readFileSync(join(dir, 'hmac.secret'), 'utf8').trim();
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ security: { jwt_issuer: ISS, jwt_audiences: ['api'] } }));
  assert.equal(run('verify', r.out.trim(), '--policy', policy, '--env', `JWT_SECRET=${secret}`).code, 0);

  writeFileSync(join(dir, 'weak'), 'changeme\n');
  r = run('sign', '--key', join(dir, 'weak'), '--claims', claims, '--policy', policy, '--env', `JWT_SECRET=${secret}`);
  assert.equal(r.code, 1);
  assert.match(r.err, /^refused: secret_refused: /);
  r = run('sign', '--key', join(dir, 'weak'), '--claims', claims, '--policy', policy, '--env', 'JWT_SECRET=changeme', '--env', 'TOKENWARD_ENV=dev');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: weak_secret/);

  r = run('sign', '--key', join(dir, 'hmac.secret'), '--claims', JSON.stringify({ iss: ISS, sub: 'svc', aud: 'api' }), '--policy', policy, '--env', `JWT_SECRET=${secret}`, '--expires-in', '99999999');
  assert.equal(r.code, 1);
  assert.match(r.err, /refused: token_lifetime_exceeded/);
});

test('usage errors exit 2 with the usage on stderr', () => {
  for (const args of [[], ['frobnicate'], ['verify'], ['verify', 'x'], ['verify', 'x', '--policy', '/nonexistent'], ['sign', '--key', '/nonexistent', '--claims', '{}'], ['sign', '--claims', '{'], ['keygen', '--alg', 'XX256', '--out', '/tmp/x'], ['verify', 'x', '--policy', '/dev/null', '--now', 'soon'], ['verify', 'x', '--bogus']]) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /^tokenward: .*\nusage:/s);
    assert.equal(r.out, '');
  }
  const bad = join(mkdtempSync(join(tmpdir(), 'tokenward-cli-')), 'p.json');
  writeFileSync(bad, '{"security": {"jwt_issuer": 42}}');
  const r = run('verify', 'x', '--policy', bad);
  assert.equal(r.code, 2);
  assert.match(r.err, /policy .*: policy_invalid: /);
  assert.equal(run('--help').code, 0);
});
