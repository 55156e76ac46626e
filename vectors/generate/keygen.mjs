// Run once: `node keygen.mjs`. Writes the fixed test keys into ../keys/.
// The outputs are committed; re-running replaces them, and then every vector must be regenerated
// (`node generate.mjs`). These keys are test material only: never use them anywhere else.
import { generateKeyPairSync, randomBytes, createPublicKey } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const keysDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'keys');
mkdirSync(keysDir, { recursive: true });

const pair = (name, type, options) => {
  const { privateKey, publicKey } = generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(join(keysDir, `${name}.private.pem`), privateKey);
  writeFileSync(join(keysDir, `${name}.public.pem`), publicKey);
  return publicKey;
};

const rsa = pair('rsa-2048', 'rsa', { modulusLength: 2048 });
const rsaB = pair('rsa-2048-b', 'rsa', { modulusLength: 2048 });
pair('rsa-1024', 'rsa', { modulusLength: 1024 });
const p256 = pair('ec-p256', 'ec', { namedCurve: 'P-256' });
const p384 = pair('ec-p384', 'ec', { namedCurve: 'P-384' });
const ed = pair('ed25519', 'ed25519', {});

// 48 base64url characters (36 random bytes); the secret is these 48 ASCII bytes. No trailing newline.
writeFileSync(join(keysDir, 'hmac.secret'), randomBytes(36).toString('base64url'));

const jwk = (pem, kid, alg) => ({ kid, alg, use: 'sig', ...createPublicKey(pem).export({ format: 'jwk' }) });
const jwks = {
  keys: [
    jwk(rsa, 'rsa-1', 'RS256'),
    jwk(rsaB, 'rsa-2', 'RS256'),
    jwk(p256, 'ec-256', 'ES256'),
    jwk(p384, 'ec-384', 'ES384'),
    jwk(ed, 'ed-1', 'EdDSA'),
  ],
};
writeFileSync(join(keysDir, 'jwks.json'), `${JSON.stringify(jwks, null, 2)}\n`);
console.log(`wrote keys to ${keysDir}`);
