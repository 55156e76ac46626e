// The public API over the private wasm-bindgen glue. Every decision is the core's; this layer
// only moves values across the boundary, does the signature math in the native provider when
// there is one (prepare -> native verify -> finish), and performs the JWKS fetches the core's
// cache asks for.
import { TokenwardError, call, convert } from './errors.js';
import { requestParts } from './request.js';

const WASM = -2; // ask the in-wasm provider to check the signature
const INVALID = -1;
// Per-verifier counts of signature checks by who did them (tests read it to prove delegation).
const STATS = Symbol.for('tokenward.stats');
// Brand of createRemoteJwks descriptors (a symbol in the global registry: survives dual copies).
const REMOTE = Symbol.for('tokenward.remoteJwks');
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

function policyText(policy) {
  if (typeof policy === 'string') return { text: policy, isJson: false };
  if (policy !== null && typeof policy === 'object') return { text: JSON.stringify(policy), isJson: true };
  throw new TypeError('tokenward: the policy must be an object, or JSON or YAML text');
}

function seconds(value, name) {
  if (value === undefined || value === null) return NaN; // the core's default
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`tokenward: ${name} must be a non-negative number of seconds`);
  }
  return value;
}

function fetchOf(fn) {
  if (fn !== undefined && typeof fn !== 'function') throw new TypeError('tokenward: options.fetch must be a function');
  if (fn) return fn;
  if (typeof globalThis.fetch !== 'function') throw new TypeError('tokenward: no fetch in this runtime; pass options.fetch');
  // Never call the platform fetch as a method of another object (browsers: Illegal invocation).
  return (url, init) => globalThis.fetch(url, init);
}

function timeoutSignal(ms) {
  return typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function'
    ? AbortSignal.timeout(ms)
    : undefined;
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
  // The raw kid of a key_not_found deny, for the JWKS refetch (internal).
  if (d.unknownKid !== undefined) Object.defineProperty(out, UNKNOWN_KID, { value: d.unknownKid });
  return out;
}
const UNKNOWN_KID = Symbol('unknownKid');

/**
 * Builds the API for one glue instance and one native provider (or none).
 * `glue` is the initialised wasm-bindgen module; `provider` is `{ name, sync, importKey, verify }`.
 */
export function makeApi(glue, provider) {
  let engineOf; // Verifier -> its engine, for sign({ verifier })

  /**
   * A remote JWKS for `new Verifier(policy, { jwks })`: where to fetch it and how. The fetching
   * schedule is the core's JWKS cache (one per Verifier): initial fetch, refetch after `maxAge`,
   * retry after failures, refetch on an unknown `kid`, never twice within `cooldown`.
   */
  function createRemoteJwks(url, options = {}) {
    if (!(typeof url === 'string' || url instanceof URL)) throw new TypeError('tokenward: the JWKS url must be a string or URL');
    const clock = options.clock ?? (() => Date.now() / 1000);
    if (typeof clock !== 'function') throw new TypeError('tokenward: options.clock must return seconds');
    return Object.freeze({
      [REMOTE]: true,
      url: String(url),
      maxAge: seconds(options.maxAge, 'options.maxAge'),
      cooldown: seconds(options.cooldown, 'options.cooldown'),
      timeout: seconds(options.timeout, 'options.timeout'),
      maxBodyBytes: options.maxBodyBytes ?? NaN,
      headers: { ...options.headers },
      fetch: fetchOf(options.fetch),
      clock,
    });
  }

  /** OIDC discovery: fetches `<issuer>/.well-known/openid-configuration`; `{ issuer, jwksUri }`. */
  async function discover(issuer, options = {}) {
    if (typeof issuer !== 'string') throw new TypeError('tokenward: the issuer must be a string');
    const fetchFn = fetchOf(options.fetch);
    const url = glue.discoveryUrl(issuer);
    const fail = (reason, cause) =>
      new TokenwardError(`OIDC discovery document rejected: ${reason}`, { code: 'discovery_invalid', status: 500 }, { cause });
    let body;
    try {
      const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: timeoutSignal((options.timeout ?? 60) * 1000) });
      if (!res.ok) throw fail(`${url} answered HTTP ${res.status}`);
      body = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      if (e instanceof TokenwardError) throw e;
      throw fail(`fetching ${url} failed: ${e && e.message ? e.message : e}`, e);
    }
    return call(() => glue.parseDiscovery(body, issuer));
  }

  class Verifier {
    #engine;
    #remote = null;
    #inflight = null;
    #freed = false;
    #native = [];
    #nativeGen = 0;
    #warnings = { gen: -1, list: [] };
    #mode;
    #delegate = 0;
    [STATS] = { native: 0, wasm: 0 };

    static {
      engineOf = (v) => v.#engine;
    }

    /**
     * @param policy a policy document: object, JSON text or YAML text
     * @param options `{ env?, crypto?: 'auto' | 'native' | 'wasm', jwks?: createRemoteJwks(...) }`
     */
    constructor(policy, options = {}) {
      const { text, isJson } = policyText(policy);
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
      const jwks = options.jwks;
      if (jwks !== undefined && jwks !== null) {
        if (!jwks[REMOTE]) throw new TypeError('tokenward: options.jwks must come from createRemoteJwks()');
        this.#remote = jwks;
        this.#engine = call(() => glue.Engine.remote(text, env, jwks.maxAge, jwks.cooldown, jwks.timeout, jwks.maxBodyBytes));
      } else {
        this.#engine = call(() => new glue.Engine(text, isJson, env));
      }
    }

    /** Load-time warnings (`weak_secret`, `key_skipped`) as `{ code, message }` (remote: of the current key set). */
    get warnings() {
      const gen = this.#engine.generation;
      if (this.#warnings.gen !== gen) {
        this.#warnings = { gen, list: Object.freeze(JSON.parse(this.#engine.warnings()).map((w) => Object.freeze(w))) };
      }
      return this.#warnings.list;
    }

    /** Which provider checks signatures for `verify` / `authorize` (sync) and their async forms. */
    get crypto() {
      if (this.#mode === 'wasm') return { sync: 'wasm', async: 'wasm' };
      return provider.sync ? { sync: provider.name, async: provider.name } : { sync: 'wasm', async: provider.name };
    }

    /** Remote keys: the core cache's state (`generation`, `fetchedAt`, `staleness`, `stale`, `fetching`, `lastError`); else null. */
    get jwks() {
      if (!this.#remote) return null;
      return JSON.parse(this.#engine.jwksStatus(this.#remote.clock()));
    }

    /** Remote keys: resolves once a key set is loaded (fetching it if the cache says so); rejects with the fetch error if none could be. */
    async ready() {
      await this.#ready();
      if (!this.#engine.hasKeys) call(() => this.#engine.verify('', 0, [])); // throws jwks_invalid
      return this;
    }

    /** Validates `token`; returns its payload or throws TokenwardError. */
    verify(token, options = {}) {
      if (typeof token !== 'string') throw new TypeError('tokenward: the token must be a string');
      const now = nowSeconds(options.now);
      const scopes = scopesOf(options.requiredScopes);
      this.#poll();
      try {
        return this.#verifySync(token, now, scopes);
      } catch (e) {
        if (e && e.code === 'key_not_found') this.#unknownKid(glue.Engine.tokenKid(token));
        throw e;
      }
    }

    /** `verify`, with the signature checked by the runtime's asynchronous native crypto; awaits remote keys. */
    async verifyAsync(token, options = {}) {
      if (typeof token !== 'string') throw new TypeError('tokenward: the token must be a string');
      const now = nowSeconds(options.now);
      const scopes = scopesOf(options.requiredScopes);
      await this.#ready();
      try {
        return await this.#verifyAsync(token, now, scopes);
      } catch (e) {
        const refetch = e && e.code === 'key_not_found' && this.#unknownKidAsync(glue.Engine.tokenKid(token));
        if (!refetch) throw e;
        await refetch;
        return await this.#verifyAsync(token, now, scopes);
      }
    }

    /**
     * Decides one request: `{ method, url | path, headers, query?, requestsInWindow? }`, a WHATWG
     * Request or a Node IncomingMessage. Returns the decision; never throws for a bad token.
     */
    authorize(request, options = {}) {
      const now = nowSeconds(options.now);
      const r = requestParts(request);
      this.#poll();
      const d = this.#authorizeSync(r, now);
      if (d[UNKNOWN_KID] !== undefined) this.#unknownKid(d[UNKNOWN_KID]);
      return d;
    }

    /** `authorize`, with the signature checked by the runtime's asynchronous native crypto; awaits remote keys. */
    async authorizeAsync(request, options = {}) {
      const now = nowSeconds(options.now);
      const r = requestParts(request);
      await this.#ready();
      const d = await this.#authorizeAsync(r, now);
      const refetch = d[UNKNOWN_KID] !== undefined && this.#unknownKidAsync(d[UNKNOWN_KID]);
      if (!refetch) return d;
      await refetch;
      return this.#authorizeAsync(r, now);
    }

    /** Frees the wasm memory now instead of at garbage collection. */
    free() {
      this.#freed = true;
      this.#engine.free();
    }

    #verifySync(token, now, scopes) {
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

    async #verifyAsync(token, now, scopes) {
      if (this.#mode === 'wasm' || provider.sync) return this.#verifySync(token, now, scopes);
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

    #authorizeSync(r, now) {
      const engine = this.#engine;
      const delegate = this.#mode === 'wasm' || !provider.sync ? 0 : this.#delegate;
      const pending = call(() =>
        engine.authorizePrepare(r.method, r.path, r.query, r.headers, r.requestsInWindow, now, delegate),
      );
      if (typeof pending === 'string') return decisionOf(pending);
      let verified;
      try {
        verified = this.#checkSync(pending);
      } catch (e) {
        pending.free();
        throw e;
      }
      return decisionOf(engine.authorizeFinish(pending, verified, now));
    }

    async #authorizeAsync(r, now) {
      if (this.#mode === 'wasm' || provider.sync) return this.#authorizeSync(r, now);
      const engine = this.#engine;
      const pending = call(() =>
        engine.authorizePrepare(r.method, r.path, r.query, r.headers, r.requestsInWindow, now, this.#delegate),
      );
      if (typeof pending === 'string') return decisionOf(pending);
      let verified;
      try {
        verified = await this.#checkAsync(pending);
      } catch (e) {
        pending.free();
        throw e;
      }
      return decisionOf(engine.authorizeFinish(pending, verified, now));
    }

    // --- remote keys: the core's cache decides, this does the fetch -------------------------

    // Starts a fetch the cache has already recorded as begun; never rejects.
    #fetchNow() {
      const remote = this.#remote;
      const engine = this.#engine;
      const p = (async () => {
        let body;
        try {
          const res = await remote.fetch(remote.url, {
            headers: { accept: 'application/jwk-set+json, application/json', ...remote.headers },
            signal: timeoutSignal((Number.isNaN(remote.timeout) ? 60 : remote.timeout) * 1000),
          });
          if (!res.ok) {
            try {
              await res.arrayBuffer();
            } catch {
              // the status is the reason
            }
            throw new Error(`HTTP ${res.status}`);
          }
          body = new Uint8Array(await res.arrayBuffer());
        } catch (e) {
          if (!this.#freed) engine.onFetchError(remote.clock(), String(e && e.message ? e.message : e));
          return;
        }
        if (this.#freed) return;
        try {
          engine.onFetchOk(remote.clock(), body);
        } catch {
          // jwks_invalid: the cache keeps the last good key set and the error (verifier.jwks.lastError)
        }
      })();
      this.#inflight = p;
      p.then(() => {
        if (this.#inflight === p) this.#inflight = null;
      });
      return p;
    }

    // Asks the cache whether to fetch now; returns the fetch in flight, if any.
    #poll() {
      if (!this.#remote) return null;
      const t = this.#remote.clock();
      if (this.#engine.pollFetch(t) !== undefined) {
        this.#engine.beginFetch(t);
        return this.#fetchNow();
      }
      return this.#inflight;
    }

    async #ready() {
      const p = this.#poll();
      if (p && !this.#engine.hasKeys) await p;
    }

    // A token named a kid the key set lacks: the refetch the cache allows, or null.
    #unknownKid(kid) {
      if (!this.#remote) return null;
      return this.#engine.onUnknownKid(this.#remote.clock(), kid ?? '') ? this.#fetchNow() : null;
    }

    // The async calls also wait for a fetch already in flight (it may bring the kid).
    #unknownKidAsync(kid) {
      return this.#unknownKid(kid) ?? this.#inflight;
    }

    // --- native signature checks ------------------------------------------------------------

    // The cache of native keys for `pending`'s key set (a set swapped in meanwhile starts a new one).
    #nativeKeys(pending) {
      const gen = pending.generation;
      if (gen > this.#nativeGen) {
        this.#nativeGen = gen;
        this.#native = [];
      }
      return gen === this.#nativeGen ? this.#native : [];
    }

    // The native key for key `index` of `pending`'s key set, imported once (null: use wasm).
    #nativeKey(pending, cache, index) {
      let entry = cache[index];
      if (entry === undefined) {
        const info = pending.key(index);
        try {
          entry = info ? provider.importKey(info) ?? null : null;
        } catch {
          entry = null;
        }
        if (entry && typeof entry.then === 'function') {
          entry = entry.then(
            (k) => (cache[index] = k ?? null),
            () => (cache[index] = null),
          );
        }
        cache[index] = entry;
      }
      return entry;
    }

    #checkSync(pending) {
      const cache = this.#nativeKeys(pending);
      const alg = pending.alg;
      const candidates = pending.candidates;
      for (const index of candidates) {
        if (this.#nativeKey(pending, cache, index) === null) {
          this[STATS].wasm += 1;
          return WASM;
        }
      }
      const data = pending.signingInput;
      const signature = pending.signature;
      this[STATS].native += 1;
      for (const index of candidates) {
        if (provider.verify(alg, cache[index], data, signature)) return index;
      }
      return INVALID;
    }

    async #checkAsync(pending) {
      const cache = this.#nativeKeys(pending);
      const alg = pending.alg;
      const candidates = pending.candidates;
      const data = pending.signingInput;
      const signature = pending.signature;
      const keys = [];
      for (const index of candidates) {
        const key = await this.#nativeKey(pending, cache, index);
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

  const encoder = new TextEncoder();

  /**
   * Issues a token with the core's `sign`: the claims must validate under the policy
   * (`options.verifier`, or `options.policy` + `options.env`), a weak HMAC secret is refused in
   * production (`secret_refused`) as the policy loader refuses it. `iat` defaults to now, `jti` to
   * a random UUID, `exp` to `iat + options.expiresIn` when given.
   */
  function sign(claims, key, options = {}) {
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
      throw new TypeError('tokenward: sign(claims, key, options) needs a claims object');
    }
    const c = { ...claims };
    if (c.iat === undefined) c.iat = nowSeconds(options.now);
    if (c.exp === undefined && options.expiresIn !== undefined) {
      if (!Number.isInteger(options.expiresIn)) throw new TypeError('tokenward: options.expiresIn must be an integer number of seconds');
      c.exp = c.iat + options.expiresIn;
    }
    if (c.jti === undefined) c.jti = globalThis.crypto.randomUUID();

    let k = key;
    if (typeof k === 'string' || k instanceof Uint8Array) {
      k = typeof k === 'string' && k.startsWith('-----BEGIN') ? { pem: k } : { secret: k };
    }
    if (k === null || typeof k !== 'object') {
      throw new TypeError('tokenward: the key must be { secret }, { secretEnv }, { pem, alg } or a secret / PEM string');
    }
    const alg = k.alg ?? options.alg ?? (k.pem === undefined ? 'HS256' : undefined);
    if (typeof alg !== 'string') throw new TypeError('tokenward: a PEM key needs alg (RS256, ES256 or EdDSA)');
    const secret = k.secret === undefined ? undefined : typeof k.secret === 'string' ? encoder.encode(k.secret) : k.secret;
    const kind = options.kind ?? 'access';
    if (kind !== 'access' && kind !== 'refresh') throw new TypeError("tokenward: options.kind must be 'access' or 'refresh'");
    const kid = k.kid ?? options.kid;

    let engine;
    let temporary = false;
    if (options.verifier !== undefined) {
      if (!(options.verifier instanceof Verifier)) throw new TypeError('tokenward: options.verifier must be a Verifier');
      engine = engineOf(options.verifier);
    } else if (options.policy !== undefined) {
      const { text, isJson } = policyText(options.policy);
      const env = JSON.stringify(envRecord(options.env));
      engine = call(() => new glue.Engine(text, isJson, env));
      temporary = true;
    } else {
      throw new TypeError('tokenward: sign needs options.policy (or options.verifier): the token must validate under it');
    }
    try {
      const out = call(() => engine.sign(JSON.stringify(c), alg, kid, secret, k.secretEnv, k.pem, kind === 'refresh'));
      if (typeof options.onWarning === 'function') for (const w of JSON.parse(out.warnings)) options.onWarning(w);
      return out.token;
    } finally {
      if (temporary) engine.free();
    }
  }

  return { Verifier, TokenwardError, sign, createRemoteJwks, discover };
}
