// Types of the `tokenward` package (every entry: node, browser, deno, workerd share this API).

/** Every stable code of the core's error catalog (`core/src/error.rs`). Branch on `err.code`. */
export type TokenwardErrorCode =
  | 'token_missing'
  | 'invalid_request'
  | 'token_malformed'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'key_not_found'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issuer_invalid'
  | 'audience_invalid'
  | 'claim_missing'
  | 'claim_invalid'
  | 'token_type_invalid'
  | 'token_lifetime_exceeded'
  | 'insufficient_scope'
  | 'tenant_mismatch'
  | 'scanner_blocked'
  | 'jwks_invalid'
  | 'discovery_invalid'
  | 'key_invalid'
  | 'policy_invalid'
  | 'secret_refused';

/** Thrown by `new Verifier` (bad policy) and `verify` (bad token). */
export declare class TokenwardError extends Error {
  readonly name: 'TokenwardError';
  /** The core's stable code; the same string as the JSON body's `error`. */
  readonly code: TokenwardErrorCode;
  /** The HTTP status the core assigns (400, 401, 403; 500 for configuration errors). */
  readonly status: number;
  /** The RFC 6750 challenge for request-time errors; undefined for configuration errors. */
  readonly wwwAuthenticate: string | undefined;
  /** The claim a claim check failed on (`exp`, `nbf`, `iss`, `aud`, or the named claim). */
  readonly claim?: string;
  /** jose's vocabulary: `missing`, `check_failed` or `invalid`. */
  readonly reason?: 'missing' | 'check_failed' | 'invalid';
}

/** A load-time warning. */
export interface PolicyWarning {
  readonly code: 'weak_secret' | 'key_skipped' | (string & {});
  readonly message: string;
}

/** A policy document: the same JSON/YAML every tokenward host reads (snake_case keys). */
export type PolicyDocument = Record<string, unknown> | string;

export interface VerifierOptions {
  /** The environment map (`JWT_SECRET`, `JWT_ISSUER`, `TOKENWARD_ENV`, ...). Default: empty. */
  env?: Record<string, string | undefined>;
  /**
   * Who checks signatures. `auto` (default): the runtime's native crypto where one exists and
   * pays (node:crypto for RSA, EC and Ed25519 in Node and Bun, HMAC stays in wasm, which is
   * faster there; WebCrypto for every family in the async calls elsewhere), the in-wasm provider
   * otherwise. `wasm`: always in-wasm. `native`: every family native where the call's provider
   * allows; throws at construction where the runtime has no native provider at all.
   */
  crypto?: 'auto' | 'native' | 'wasm';
  /**
   * Keys from a remote JWKS instead of the policy's own: the policy (object, JSON or YAML) is the
   * template each fetched key set is inserted into as `keys.jwks`. Use `verifyAsync` /
   * `authorizeAsync` (they await the first fetch); the sync calls throw `jwks_invalid` until a
   * key set is loaded (`await verifier.ready()` first).
   */
  jwks?: RemoteJwks;
}

export interface RemoteJwksOptions {
  /** Refetch a key set this old, seconds (core default 600). */
  maxAge?: number;
  /** No fetch within this many seconds of the last attempt, whatever the reason (core default 30). */
  cooldown?: number;
  /** Give up on a fetch after this many seconds (core default 60). */
  timeout?: number;
  /** Largest JWKS body accepted, bytes (core default 1 MiB). */
  maxBodyBytes?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the platform `fetch`). */
  fetch?: (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;
  /** The cache's clock in seconds (default `Date.now() / 1000`); for tests. */
  clock?: () => number;
}

/** Where and how to fetch a JWKS (from `createRemoteJwks`); each Verifier using it keeps its own cache. */
export interface RemoteJwks {
  readonly url: string;
}

/** The remote key cache's state (`verifier.jwks`). */
export interface JwksStatus {
  /** How many key sets have been loaded. */
  readonly generation: number;
  readonly fetchedAt: number | null;
  /** Seconds since the last good fetch. */
  readonly staleness: number | null;
  readonly stale: boolean;
  readonly fetching: boolean;
  /** The last attempt's failure (`jwks_invalid`), kept until a fetch succeeds. */
  readonly lastError?: { code: TokenwardErrorCode; status: number; message: string };
}

export interface VerifyOptions {
  /** Current time in seconds since the epoch (or a Date). Default: the system clock. */
  now?: number | Date;
  /** Every listed scope must be granted (`scope` / `scp`), else `insufficient_scope` (403). */
  requiredScopes?: readonly string[];
}

export interface AuthorizeOptions {
  /** Current time in seconds since the epoch (or a Date). Default: the system clock. */
  now?: number | Date;
}

/** Header shapes `authorize` accepts. */
export type HeadersLike =
  | { forEach(cb: (value: string, name: string) => void): void; get(name: string): string | null }
  | Record<string, string | readonly string[] | undefined>
  | ReadonlyArray<readonly [string, string]>
  | readonly string[];

/** A request as `authorize` takes it (a WHATWG Request or Node IncomingMessage also fit). */
export interface RequestLike {
  method?: string;
  /** Path with optional query, or an absolute URL. */
  url?: string;
  /** Path with optional query (wins over `url`). */
  path?: string;
  headers?: HeadersLike;
  /** Raw query string (with or without `?`), replacing one in the path. */
  query?: string;
  /** The host's count of requests from this client in the current window (scanner velocity). */
  requestsInWindow?: number;
}

/** The JWT payload a valid token carried. */
export type JwtPayload = Record<string, unknown> & {
  iss: string;
  aud: string | string[];
  exp: number;
  sub?: string;
  scope?: string;
  scp?: string | string[];
};

/** The outcome of `authorize`: never thrown, always returned. */
export interface Decision {
  readonly allowed: boolean;
  /** 200 on allow; the error's 400/401/403 on deny. */
  readonly status: number;
  readonly code?: TokenwardErrorCode;
  readonly message?: string;
  /** The deny as a TokenwardError (not thrown; built on access). */
  readonly error?: TokenwardError;
  /** The `WWW-Authenticate` value to send on deny. */
  readonly wwwAuthenticate?: string;
  /** The JSON body to send on deny: `{"error": code, "error_description": ...}`. */
  readonly body?: string;
  readonly authentication?: 'token' | 'anonymous' | 'disabled';
  readonly claims?: JwtPayload;
  readonly subject?: string;
  /** Granted scopes after the policy's hierarchy expansion. */
  readonly scopes: string[];
  /** Headers to set on the upstream request (allow only), in order. */
  readonly headers: Array<[string, string]>;
  /** What to log for this decision (never a token or secret). */
  readonly audit: Record<string, unknown> & { time: number; decision: 'allow' | 'deny'; status: number };
}

export declare class Verifier {
  /**
   * Loads a policy; throws TokenwardError (`policy_invalid`, `secret_refused`) naming the field.
   */
  constructor(policy: PolicyDocument, options?: VerifierOptions);
  /** Node, Bun and Deno: `new Verifier(policy, { ...options, env: process.env })`. */
  static fromEnv(policy: PolicyDocument, options?: Omit<VerifierOptions, 'env'>): Verifier;
  /** Load-time warnings (`weak_secret`, `key_skipped`). */
  readonly warnings: readonly PolicyWarning[];
  /** Which provider checks signatures for the sync and the async calls. */
  readonly crypto: { readonly sync: string; readonly async: string };
  /** Validates a token synchronously; returns its payload or throws TokenwardError. */
  verify(token: string, options?: VerifyOptions): JwtPayload;
  /** `verify` with the signature checked by the runtime's async native crypto (WebCrypto). */
  verifyAsync(token: string, options?: VerifyOptions): Promise<JwtPayload>;
  /** Decides one request; a bad token is a deny decision, not an exception. */
  authorize(request: RequestLike, options?: AuthorizeOptions): Decision;
  /** `authorize` with the signature checked by the runtime's async native crypto. */
  authorizeAsync(request: RequestLike, options?: AuthorizeOptions): Promise<Decision>;
  /** Remote keys: the cache's state; null for policy keys. */
  readonly jwks: JwksStatus | null;
  /** Remote keys: resolves once a key set is loaded; rejects with `jwks_invalid` if none could be. */
  ready(): Promise<this>;
  /** Frees the wasm memory now instead of at garbage collection. */
  free(): void;
}

/** Claims to sign: the typed claims of the core's `TokenClaims`, plus any other members. */
export type TokenClaimsInput = Record<string, unknown> & {
  iss: string;
  sub: string;
  aud: string | string[];
  /** Default: `iat + options.expiresIn`. */
  exp?: number;
  /** Default: now. */
  iat?: number;
  /** Default: a random UUID. */
  jti?: string;
  /** A space-separated string or a list (joined with spaces). */
  scope?: string | string[];
  email?: string;
  session_id?: string;
  user_type?: string;
  roles?: string[];
  permissions?: string[];
  rate_limit_tier?: string;
  tenant_id?: string;
};

/** A signing key: an HS256 secret (bytes or UTF-8 text), a secret in the environment map, or a PEM private key. */
export type SigningKeyInput =
  | string
  | Uint8Array
  | { secret: string | Uint8Array; alg?: 'HS256'; kid?: string }
  | { secretEnv: string; alg?: 'HS256'; kid?: string }
  | { pem: string; alg: 'RS256' | 'ES256' | 'EdDSA'; kid?: string };

export interface SignOptions {
  /** The policy the token must validate under (with `env`), or `verifier` (its policy and env). */
  policy?: PolicyDocument;
  env?: Record<string, string | undefined>;
  verifier?: Verifier;
  /** Seconds from `iat` to `exp` when `claims.exp` is not set. */
  expiresIn?: number;
  /** Lifetime limit to apply: `jwt_access_token_expiration` (default) or `jwt_refresh_token_expiration`. */
  kind?: 'access' | 'refresh';
  /** `iat` default (seconds or Date). */
  now?: number | Date;
  /** For a PEM key given as a string. */
  alg?: 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
  kid?: string;
  /** Key warnings (`weak_secret` accepted under TOKENWARD_ENV=dev). */
  onWarning?: (warning: PolicyWarning) => void;
}

/**
 * Issues a compact JWS with the core's `sign`: throws TokenwardError (`secret_refused` for a weak
 * secret in production, `key_invalid`, `algorithm_not_allowed`, `issuer_invalid`,
 * `audience_invalid`, `token_lifetime_exceeded`, `claim_missing`, ...) for anything the policy
 * would reject.
 */
export declare function sign(claims: TokenClaimsInput, key: SigningKeyInput, options: SignOptions): string;

/** A remote JWKS for `new Verifier(policy, { jwks })`. */
export declare function createRemoteJwks(url: string | URL, options?: RemoteJwksOptions): RemoteJwks;

/** OIDC discovery (`<issuer>/.well-known/openid-configuration`); throws `discovery_invalid`. */
export declare function discover(
  issuer: string,
  options?: { fetch?: RemoteJwksOptions['fetch']; timeout?: number },
): Promise<{ issuer: string; jwksUri: string }>;

export interface AdapterOptions {
  /** Where the decision goes: `req[property]`, `request[property]`, `c.get(property)`. Default `auth`. */
  property?: string;
  /** The time to decide at (seconds, Date, or a function returning one). Default: the clock. */
  now?: number | Date | (() => number | Date);
}

/** Express / connect / node:http middleware; handlers read `req.auth` (the Decision). */
export declare function expressAuth(
  verifier: Verifier,
  options?: AdapterOptions,
): (req: any, res: any, next: (err?: unknown) => void) => void;

/** Fastify plugin (not encapsulated); handlers read `request.auth` (the Decision). */
export declare function fastifyAuth(verifier: Verifier, options?: AdapterOptions): (instance: any) => Promise<void>;

/** Hono middleware; handlers read `c.get('auth')` (the Decision). */
export declare function honoAuth(
  verifier: Verifier,
  options?: AdapterOptions,
): (c: any, next: () => Promise<void>) => Promise<Response | void>;

/** Which entry was loaded: `node` (also Bun), `browser`, `deno` or `workerd`. */
export declare const runtime: 'node' | 'browser' | 'deno' | 'workerd';
