#!/usr/bin/env node
// The `tokenward` command: verify (explain a decision), sign (mint a token), keygen (key pair +
// JWKS). Exit codes: 0 ok, 1 rejected (token invalid, signing refused), 2 usage or setup error.
// Results go to stdout, diagnostics to stderr. Shipped as dist/cli.mjs next to dist/node.mjs.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { Verifier, sign, TokenwardError } from './node.mjs';

const USAGE = `usage:
  tokenward verify <token | -> --policy FILE [--now SECONDS] [--scope S]... [--env NAME=VALUE]... [--json]
  tokenward sign --key FILE --claims JSON|@FILE [--policy FILE] [--alg ALG] [--kid KID]
                 [--expires-in SECONDS] [--refresh] [--env NAME=VALUE]...
  tokenward keygen --alg ES256|RS256|EdDSA|HS256 --out DIR [--kid KID] [--force]

verify explains the decision (code, status, failing check, claim, expected vs found).
sign reads a PEM private key (RS256, ES256, EdDSA: alg from the key) or an HMAC secret file
(HS256); without --policy the token is checked against a policy made from its own iss and aud.
The environment (JWT_SECRET, TOKENWARD_ENV, ...) is process.env plus --env entries.
Exit codes: 0 ok, 1 rejected, 2 usage error.`;

class Usage extends Error {}

// Which step of the core's fixed check order produced each code.
const CHECK = {
  token_missing: 'extraction',
  invalid_request: 'extraction',
  token_too_large: 'size',
  token_malformed: 'structure',
  algorithm_not_allowed: 'header (alg)',
  token_type_invalid: 'header (typ)',
  key_not_found: 'key selection',
  signature_invalid: 'signature',
  token_expired: 'claims',
  token_not_yet_valid: 'claims',
  issuer_invalid: 'claims',
  audience_invalid: 'claims',
  claim_missing: 'claims',
  claim_invalid: 'claims',
  token_lifetime_exceeded: 'claims',
  insufficient_scope: 'scopes',
};

function parse(argv, spec) {
  const out = { _: [] };
  for (const [name, kind] of Object.entries(spec)) if (kind === 'list') out[name] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '-') {
      out._.push(a);
      continue;
    }
    const [flag, inline] = a.slice(2).split(/=(.*)/s, 2);
    const kind = spec[flag];
    if (!kind) throw new Usage(`unknown option --${flag}`);
    if (kind === 'bool') {
      out[flag] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Usage(`--${flag} needs a value`);
    if (kind === 'list') out[flag].push(value);
    else out[flag] = value;
  }
  return out;
}

function read(path, what) {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new Usage(`cannot read ${what} ${path}: ${e.code ?? e.message}`);
  }
}

function envOf(entries) {
  const env = { ...process.env };
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i <= 0) throw new Usage(`--env needs NAME=VALUE, got ${JSON.stringify(e)}`);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  return env;
}

function integer(value, flag) {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new Usage(`${flag} must be an integer number of seconds, got ${JSON.stringify(value)}`);
  return Number(value);
}

function loadVerifier(policyPath, env) {
  const text = read(policyPath, 'policy');
  try {
    return new Verifier(text, { env });
  } catch (e) {
    if (e instanceof TokenwardError) throw new Usage(`policy ${policyPath}: ${e.code}: ${e.message}`);
    throw e;
  }
}

function verifyCmd(argv) {
  const o = parse(argv, { policy: 'value', now: 'value', scope: 'list', env: 'list', json: 'bool' });
  if (o._.length !== 1) throw new Usage('verify takes exactly one token (or - for stdin)');
  if (!o.policy) throw new Usage('verify needs --policy FILE');
  const token = (o._[0] === '-' ? read('-', 'token') : o._[0]).trim();
  const now = integer(o.now, '--now');
  const verifier = loadVerifier(o.policy, envOf(o.env));
  for (const w of verifier.warnings) process.stderr.write(`warning: ${w.code}: ${w.message}\n`);
  try {
    const claims = verifier.verify(token, { now, requiredScopes: o.scope });
    if (o.json) process.stdout.write(`${JSON.stringify({ valid: true, claims })}\n`);
    else process.stdout.write(`valid: every check passed\n${JSON.stringify(claims, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof TokenwardError)) throw e;
    const check = CHECK[e.code] ?? 'configuration';
    if (o.json) {
      const out = { valid: false, code: e.code, status: e.status, check, message: e.message };
      if (e.claim) Object.assign(out, { claim: e.claim, reason: e.reason });
      if (e.wwwAuthenticate) out.wwwAuthenticate = e.wwwAuthenticate;
      process.stdout.write(`${JSON.stringify(out)}\n`);
    }
    const lines = [`rejected: ${e.code} (HTTP ${e.status})`, `  check:   ${check}${e.claim ? ` (claim ${e.claim}: ${e.reason})` : ''}`, `  reason:  ${e.message}`];
    if (e.wwwAuthenticate) lines.push(`  www-authenticate: ${e.wwwAuthenticate}`);
    process.stderr.write(`${lines.join('\n')}\n`);
    return 1;
  }
}

// The signing key from a file: a PEM private key (alg from its type) or an HMAC secret.
function signingKey(path, alg, kid) {
  const text = read(path, 'key');
  if (text.includes('-----BEGIN')) {
    let keyObject;
    try {
      keyObject = createPrivateKey(text);
    } catch (e) {
      throw new Usage(`key ${path} is not a PEM private key: ${e.message}`);
    }
    const type = keyObject.asymmetricKeyType;
    const inferred = type === 'rsa' ? 'RS256' : type === 'ec' ? 'ES256' : type === 'ed25519' ? 'EdDSA' : undefined;
    const publicPem = createPublicKey(keyObject).export({ type: 'spki', format: 'pem' });
    return { key: { pem: text, alg: alg ?? inferred, kid }, alg: alg ?? inferred, publicPem };
  }
  return { key: { secret: text.replace(/\r?\n$/, ''), alg: alg ?? 'HS256', kid }, alg: alg ?? 'HS256', secret: text.replace(/\r?\n$/, '') };
}

function signCmd(argv) {
  const o = parse(argv, { key: 'value', claims: 'value', policy: 'value', alg: 'value', kid: 'value', 'expires-in': 'value', refresh: 'bool', env: 'list' });
  if (o._.length) throw new Usage(`sign takes no positional argument, got ${o._[0]}`);
  if (!o.key) throw new Usage('sign needs --key FILE');
  if (!o.claims) throw new Usage('sign needs --claims JSON (or @FILE)');
  let claims;
  try {
    claims = JSON.parse(o.claims.startsWith('@') ? read(o.claims.slice(1), 'claims') : o.claims);
  } catch (e) {
    if (e instanceof Usage) throw e;
    throw new Usage(`--claims is not JSON: ${e.message}`);
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Usage('--claims must be a JSON object');
  const env = envOf(o.env);
  // keygen writes jwks.json next to private.pem: its kid is the default.
  const kid = o.kid ?? siblingKid(o.key);
  const k = signingKey(o.key, o.alg, kid);
  if (!k.alg) throw new Usage('cannot tell the algorithm from the key; pass --alg');
  const expiresIn = integer(o['expires-in'], '--expires-in') ?? (claims.exp === undefined ? 900 : undefined);
  let policy;
  if (o.policy) {
    policy = read(o.policy, 'policy');
  } else {
    // A policy made from the token itself: it checks the claims and the key, not an issuer's rules.
    const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
    policy = { security: { jwt_issuer: claims.iss ?? '', jwt_audiences: aud }, algorithms: [k.alg] };
    if (k.publicPem) policy.keys = { pem: [{ kid: kid ?? 'signing-key', alg: k.alg, key: k.publicPem }] };
    else {
      policy.keys = { secret_env: 'TOKENWARD_CLI_SIGNING_SECRET' };
      env.TOKENWARD_CLI_SIGNING_SECRET = k.secret;
    }
  }
  let token;
  try {
    token = sign(claims, k.key, {
      policy,
      env,
      expiresIn,
      kind: o.refresh ? 'refresh' : 'access',
      onWarning: (w) => process.stderr.write(`warning: ${w.code}: ${w.message}\n`),
    });
  } catch (e) {
    if (!(e instanceof TokenwardError)) throw e;
    // The synthetic policy may fail to load for the same reasons sign refuses (weak secret, no iss).
    if (!o.policy && e.code === 'policy_invalid') throw new Usage(`--claims needs iss and aud: ${e.message}`);
    process.stderr.write(`refused: ${e.code}: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

function siblingKid(keyPath) {
  try {
    const { keys } = JSON.parse(readFileSync(join(dirname(keyPath), 'jwks.json'), 'utf8'));
    return keys.length === 1 && typeof keys[0].kid === 'string' ? keys[0].kid : undefined;
  } catch {
    return undefined;
  }
}

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}

// RFC 7638 JWK thumbprint (SHA-256) as the default kid.
function thumbprint(jwk) {
  const members = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return b64u(createHash('sha256').update(canonical).digest());
}

function keygenCmd(argv) {
  const o = parse(argv, { alg: 'value', out: 'value', kid: 'value', force: 'bool' });
  if (o._.length) throw new Usage(`keygen takes no positional argument, got ${o._[0]}`);
  if (!o.out) throw new Usage('keygen needs --out DIR');
  const alg = o.alg ?? 'ES256';
  const write = (name, data, mode) => {
    const path = join(o.out, name);
    if (existsSync(path) && !o.force) throw new Usage(`${path} exists (pass --force to overwrite)`);
    writeFileSync(path, data, { mode });
    process.stdout.write(`wrote ${path}\n`);
  };
  let pair;
  switch (alg) {
    case 'ES256':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'RS256':
      pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'EdDSA':
      pair = generateKeyPairSync('ed25519');
      break;
    case 'HS256':
      mkdirSync(o.out, { recursive: true });
      write('hmac.secret', `${b64u(randomBytes(48))}\n`, 0o600);
      return 0;
    default:
      throw new Usage(`--alg must be ES256, RS256, EdDSA or HS256, got ${alg}`);
  }
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const kid = o.kid ?? thumbprint(jwk);
  mkdirSync(o.out, { recursive: true });
  write('private.pem', pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  write('public.pem', pair.publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  write('jwks.json', `${JSON.stringify({ keys: [{ ...jwk, kid, alg, use: 'sig' }] }, null, 2)}\n`, 0o644);
  process.stdout.write(`kid ${kid}\n`);
  return 0;
}

function main(argv) {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'verify':
        return verifyCmd(rest);
      case 'sign':
        return signCmd(rest);
      case 'keygen':
        return keygenCmd(rest);
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new Usage(cmd === undefined ? 'no command' : `unknown command ${cmd}`);
    }
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`tokenward: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`tokenward: ${e && e.stack ? e.stack : e}\n`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
