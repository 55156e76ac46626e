// Deno entry: the wasm is read from disk synchronously; verifyAsync / authorizeAsync check
// signatures in WebCrypto.
import * as glue from '../build/glue/tokenward.js';
import { makeApi } from './api.js';
import { webCrypto } from './native-web.js';

glue.initSync({ module: Deno.readFileSync(new URL('./tokenward.wasm', import.meta.url)) });

const api = makeApi(glue, webCrypto);

/** The verifier; `Verifier.fromEnv(policy)` reads `Deno.env` (needs --allow-env). */
export class Verifier extends api.Verifier {
  static fromEnv(policy, options = {}) {
    return new Verifier(policy, { ...options, env: Deno.env.toObject() });
  }
}

export const TokenwardError = api.TokenwardError;
export const sign = api.sign;
export const createRemoteJwks = api.createRemoteJwks;
export const discover = api.discover;
export { expressAuth, fastifyAuth, honoAuth } from './middleware.js';
export const runtime = 'deno';
