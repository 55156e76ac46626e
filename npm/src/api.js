// The public API over the private wasm-bindgen glue. Every decision is the core's; this layer
// only moves values across the boundary and, when a native provider is given, does the
// signature math there (prepare -> native verify -> finish).
import { TokenwardError, call, convert } from './errors.js';
import { requestParts } from './request.js';

const WASM = -2; // ask the in-wasm provider to check the signature
const INVALID = -1;
// Per-verifier counts of signature checks by who did them (tests read it to prove delegation).
const STATS = Symbol.for('tokenward.stats');
// Key-family bits of the wasm layer's `delegate` mask.
const ALL_FAMILIES = 1 | 2 | 4 | 8;
function familyBit(alg) {
  switch (alg.slice(0, 2)) {
    case 'HS':
      return 1;
    case 'RS':
    case 'PS':
      return 2;
    case 'ES':
      return 4;
    default:
      return 8;
  }
}

function nowSeconds(now) {
  if (now === undefined || now === null) return Math.floor(Date.now() / 1000);
  if (now instanceof Date) return Math.floor(now.getTime() / 1000);
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError('tokenward: options.now must be a finite number of seconds or a Date');
  }
  return Math.floor(now);
}

function scopesOf(required) {
  if (required === undefined || required === null) return [];
  if (typeof required === 'string') return required.split(' ').filter(Boolean);
  if (!Array.isArray(required) || !required.every((s) => typeof s === 'string')) {
    throw new TypeError('tokenward: options.requiredScopes must be an array of strings');
  }
  return required;
}

function envRecord(env) {
  if (env === undefined || env === null) return {};
  if (typeof env !== 'object') throw new TypeError('tokenward: options.env must be an object of strings');
  const out = {};
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

function decisionOf(json) {
  const d = JSON.parse(json);
  const out = {
    allowed: d.allowed,
    status: d.status,
    code: d.error ? d.error.code : undefined,
    message: d.error ? d.error.message : undefined,
    wwwAuthenticate: d.wwwAuthenticate,
    body: d.body,
    authentication: d.authentication,
    claims: d.claims,
    subject: d.subject,
    scopes: d.scopes,
    headers: d.headers,
    audit: d.audit,
  };
  if (d.error) {
    Object.defineProperty(out, 'error', {
      enumerable: false,
      get() {
        return new TokenwardError(d.error.message, d.error);
      },
    });
  }
  return out;
}

/**
 * Builds the `Verifier` class for one glue instance and one native provider (or none).
 * `glue` is the initialised wasm-bindgen module; `provider` is `{ name, sync, importKey, verify }`.
 */
export function makeApi(glue, provider) {
  class Verifier {
    #engine;
    #native = [];
    #mode;
    #delegate = 0;
    [STATS] = { native: 0, wasm: 0 };

    /**
     * @param policy a policy document: object, JSON text or YAML text
     * @param options `{ env?: Record<string,string>, crypto?: 'auto' | 'native' | 'wasm' }`
     */
    constructor(policy, options = {}) {
      let text;
      let isJson;
      if (typeof policy === 'string') {
        text = policy;
        isJson = false;
      } else if (policy !== null && typeof policy === 'object') {
        text = JSON.stringify(policy);
        isJson = true;
      } else {
        throw new TypeError('tokenward: the policy must be an object, or JSON or YAML text');
      }
      const mode = options.crypto ?? 'auto';
      if (mode !== 'auto' && mode !== 'native' && mode !== 'wasm') {
        throw new TypeError("tokenward: options.crypto must be 'auto', 'native' or 'wasm'");
      }
      if (mode === 'native' && !provider) throw new TypeError('tokenward: no native crypto in this runtime');
      this.#mode = mode === 'wasm' || !provider ? 'wasm' : 'native';
      // 'auto' delegates the families where the native round trip pays (provider.delegate);
      // 'native' delegates every family.
      if (this.#mode === 'native') this.#delegate = mode === 'native' ? ALL_FAMILIES : provider.delegate;
      const env = JSON.stringify(envRecord(options.env));
      this.#engine = call(() => new glue.Engine(text, isJson, env));
      /** Load-time warnings (`weak_secret`, `key_skipped`) as `{ code, message }`. */
      this.warnings = Object.freeze(JSON.parse(this.#engine.warnings()).map((w) => Object.freeze(w)));
    }

    /** Which provider checks signatures for `verify` / `authorize` (sync) and their async forms. */
    get crypto() {
      if (this.#mode === 'wasm') return { sync: 'wasm', async: 'wasm' };
      return provider.sync ? { sync: provider.name, async: provider.name } : { sync: 'wasm', async: provider.name };
    }

    /** Validates `token`; returns its payload or throws TokenwardError. */
    verify(token, options = {}) {
      if (typeof token !== 'string') throw new TypeError('tokenward: the token must be a string');
      const now = nowSeconds(options.now);
      const scopes = scopesOf(options.requiredScopes);
      const engine = this.#engine;
      if (this.#mode === 'wasm' || !provider.sync) return JSON.parse(call(() => engine.verify(token, now, scopes)));
      const pending = call(() => engine.prepareOrVerify(token, now, scopes, this.#delegate));
      if (typeof pending === 'string') return JSON.parse(pending);
      let verified;
      try {
        verified = this.#checkSync(pending);
      } catch (e) {
        pending.free();
        throw e;
      }
      return JSON.parse(call(() => engine.finish(pending, verified, now, scopes)));
    }

    /** `verify`, with the signature checked by the runtime's asynchronous native crypto. */
    async verifyAsync(token, options = {}) {
      if (this.#mode === 'wasm' || provider.sync) return this.verify(token, options);
      if (typeof token !== 'string') throw new TypeError('tokenward: the token must be a string');
      const now = nowSeconds(options.now);
      const scopes = scopesOf(options.requiredScopes);
      const engine = this.#engine;
      const pending = call(() => engine.prepareOrVerify(token, now, scopes, this.#delegate));
      if (typeof pending === 'string') return JSON.parse(pending);
      let verified;
      try {
        verified = await this.#checkAsync(pending);
      } catch (e) {
        pending.free();
        throw convert(e);
      }
      return JSON.parse(call(() => engine.finish(pending, verified, now, scopes)));
    }

    /**
     * Decides one request: `{ method, url | path, headers, query?, requestsInWindow? }`, a WHATWG
     * Request or a Node IncomingMessage. Returns the decision; never throws for a bad token.
     */
    authorize(request, options = {}) {
      const now = nowSeconds(options.now);
      const r = requestParts(request);
      const engine = this.#engine;
      if (this.#mode === 'wasm' || !provider.sync) {
        return decisionOf(engine.authorize(r.method, r.path, r.query, r.headers, r.requestsInWindow, now));
      }
      const pending = engine.authorizePrepare(r.method, r.path, r.query, r.headers, r.requestsInWindow);
      let verified = WASM;
      try {
        if (pending.needsSignature && this.#delegate & familyBit(pending.alg)) verified = this.#checkSync(pending);
      } catch (e) {
        pending.free();
        throw e;
      }
      return decisionOf(engine.authorizeFinish(pending, verified, now));
    }

    /** `authorize`, with the signature checked by the runtime's asynchronous native crypto. */
    async authorizeAsync(request, options = {}) {
      if (this.#mode === 'wasm' || provider.sync) return this.authorize(request, options);
      const now = nowSeconds(options.now);
      const r = requestParts(request);
      const engine = this.#engine;
      const pending = engine.authorizePrepare(r.method, r.path, r.query, r.headers, r.requestsInWindow);
      let verified = WASM;
      try {
        if (pending.needsSignature && this.#delegate & familyBit(pending.alg)) {
          verified = await this.#checkAsync(pending);
        }
      } catch (e) {
        pending.free();
        throw e;
      }
      return decisionOf(engine.authorizeFinish(pending, verified, now));
    }

    /** Frees the wasm memory now instead of at garbage collection. */
    free() {
      this.#engine.free();
    }

    // The native key for policy key `index`, imported once (null: this runtime cannot, use wasm).
    #nativeKey(index) {
      let entry = this.#native[index];
      if (entry === undefined) {
        const info = this.#engine.key(index);
        try {
          entry = info ? provider.importKey(info) ?? null : null;
        } catch {
          entry = null;
        }
        if (entry && typeof entry.then === 'function') {
          entry = entry.then(
            (k) => (this.#native[index] = k ?? null),
            () => (this.#native[index] = null),
          );
        }
        this.#native[index] = entry;
      }
      return entry;
    }

    #checkSync(pending) {
      const alg = pending.alg;
      const candidates = pending.candidates;
      const data = pending.signingInput;
      const signature = pending.signature;
      for (const index of candidates) {
        const key = this.#nativeKey(index);
        if (key === null) {
          this[STATS].wasm += 1;
          return WASM;
        }
      }
      this[STATS].native += 1;
      for (const index of candidates) {
        if (provider.verify(alg, this.#native[index], data, signature)) return index;
      }
      return INVALID;
    }

    async #checkAsync(pending) {
      const alg = pending.alg;
      const candidates = pending.candidates;
      const data = pending.signingInput;
      const signature = pending.signature;
      const keys = [];
      for (const index of candidates) {
        const key = await this.#nativeKey(index);
        if (key === null) {
          this[STATS].wasm += 1;
          return WASM;
        }
        keys.push(key);
      }
      this[STATS].native += 1;
      for (let i = 0; i < candidates.length; i++) {
        if (await provider.verify(alg, keys[i], data, signature)) return candidates[i];
      }
      return INVALID;
    }
  }

  return { Verifier, TokenwardError };
}
