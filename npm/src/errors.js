// TokenwardError and the conversion of the wasm layer's plain error objects into it.

/**
 * The error every tokenward failure is thrown as. Branch on `err.code` (a stable catalog code);
 * it survives the dual ESM/CommonJS copies of the package, where `instanceof` may not.
 */
export class TokenwardError extends Error {
  constructor(message, fields = {}, options) {
    super(message, options);
    this.name = 'TokenwardError';
    this.code = fields.code;
    this.status = fields.status;
    this.wwwAuthenticate = fields.wwwAuthenticate;
    if (fields.claim !== undefined) this.claim = fields.claim;
    if (fields.reason !== undefined) this.reason = fields.reason;
    if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(this, new.target);
  }
}

/** Turns what the wasm layer threw into a TokenwardError (or a TypeError for misuse). */
export function convert(raw) {
  if (raw && typeof raw === 'object' && !(raw instanceof Error)) {
    if (raw.misuse) return new TypeError(`tokenward: ${raw.message}`);
    if (typeof raw.code === 'string') return new TokenwardError(raw.message, raw);
  }
  return raw;
}

/** Runs `fn`, rethrowing the wasm layer's error objects as TokenwardError. */
export function call(fn) {
  try {
    return fn();
  } catch (raw) {
    throw convert(raw);
  }
}
