// Node and Bun entry: the wasm is read from disk and instantiated synchronously (no top-level
// await), and signatures are checked in node:crypto.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as glue from '../build/glue/tokenward.js';
import { makeApi } from './api.js';
import { nodeCrypto } from './native-node.js';

function wasmBytes() {
  // CommonJS build: __dirname; ESM build: import.meta.url (esbuild empties it in the CJS build,
  // where this branch is never taken).
  if (typeof __dirname === 'string') return readFileSync(join(__dirname, 'tokenward.wasm'));
  return readFileSync(new URL('./tokenward.wasm', import.meta.url));
}

glue.initSync({ module: wasmBytes() });

const api = makeApi(glue, nodeCrypto);

/** The verifier; `Verifier.fromEnv(policy)` reads `process.env` as the environment map. */
export class Verifier extends api.Verifier {
  static fromEnv(policy, options = {}) {
    return new Verifier(policy, { ...options, env: process.env });
  }
}

export const TokenwardError = api.TokenwardError;
export const sign = api.sign;
export const createRemoteJwks = api.createRemoteJwks;
export const discover = api.discover;
export { expressAuth, fastifyAuth, honoAuth } from './middleware.js';
export const runtime = 'node';
