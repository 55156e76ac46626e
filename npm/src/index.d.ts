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
  /** Frees the wasm memory now instead of at garbage collection. */
  free(): void;
}

/** Which entry was loaded: `node` (also Bun), `browser`, `deno` or `workerd`. */
export declare const runtime: 'node' | 'browser' | 'deno' | 'workerd';
