// Cloudflare workerd entry: the runtime hands over the compiled WebAssembly.Module (workerd
// forbids compiling wasm from bytes); verifyAsync / authorizeAsync check signatures in WebCrypto.
import wasmModule from './tokenward.wasm';
import * as glue from '../build/glue/tokenward.js';
import { makeApi } from './api.js';
import { webCrypto } from './native-web.js';

glue.initSync({ module: wasmModule });

const api = makeApi(glue, webCrypto);
export const Verifier = api.Verifier;
export const TokenwardError = api.TokenwardError;
export const sign = api.sign;
export const createRemoteJwks = api.createRemoteJwks;
export const discover = api.discover;
export { expressAuth, fastifyAuth, honoAuth } from './middleware.js';
export const runtime = 'workerd';
