// Browser (and generic web worker) entry: the wasm is fetched and instantiated once, before the
// module finishes loading; verifyAsync / authorizeAsync check signatures in WebCrypto.
import init, * as glue from '../build/glue/tokenward.js';
import { makeApi } from './api.js';
import { webCrypto } from './native-web.js';

await init({ module_or_path: new URL('./tokenward.wasm', import.meta.url) });

const api = makeApi(glue, webCrypto);
export const Verifier = api.Verifier;
export const TokenwardError = api.TokenwardError;
export const sign = api.sign;
export const createRemoteJwks = api.createRemoteJwks;
export const discover = api.discover;
export { expressAuth, fastifyAuth, honoAuth } from './middleware.js';
export const runtime = 'browser';
