// Normalises the request shapes hosts have into the flat form the wasm layer takes.

/**
 * Headers as a flat [name, value, name, value, ...] list of strings. Accepts a WHATWG `Headers`
 * (or anything with `forEach(value, name)`), a Node `IncomingHttpHeaders` object (array values
 * for repeated headers), a plain record, an array of [name, value] pairs, or Node's flat
 * `rawHeaders` list.
 */
export function flatHeaders(headers) {
  const out = [];
  if (headers == null) return out;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [name, value] of headers) push(out, name, value);
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) push(out, headers[i], headers[i + 1]);
    }
    return out;
  }
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((value, name) => push(out, name, value));
    return out;
  }
  if (typeof headers === 'object') {
    for (const name of Object.keys(headers)) push(out, name, headers[name]);
    return out;
  }
  throw new TypeError('tokenward: request.headers must be Headers, an object or an array');
}

function push(out, name, value) {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== undefined && v !== null) out.push(String(name), String(v));
  } else {
    out.push(String(name), String(value));
  }
}

/**
 * `{ method, path, query, headers, requestsInWindow }` from `{ method, url | path, headers }`, a
 * WHATWG `Request` or a Node `IncomingMessage`. An absolute `url` contributes its path and query.
 */
export function requestParts(request) {
  if (request == null || typeof request !== 'object') {
    throw new TypeError('tokenward: authorize(request) needs { method, url or path, headers }');
  }
  const method = request.method == null ? 'GET' : String(request.method);
  let target = request.path ?? request.url;
  if (typeof target !== 'string') throw new TypeError('tokenward: request.url or request.path must be a string');
  if (!target.startsWith('/')) {
    try {
      const u = new URL(target);
      target = u.pathname + u.search;
    } catch {
      // Not absolute: pass as given (the core treats it as a path).
    }
  }
  let query = request.query;
  if (query !== undefined && query !== null) {
    query = String(query);
    if (query.startsWith('?')) query = query.slice(1);
  } else {
    query = undefined;
  }
  const window = request.requestsInWindow;
  return {
    method,
    path: target,
    query,
    headers: flatHeaders(request.headers),
    requestsInWindow: typeof window === 'number' && Number.isFinite(window) ? window : undefined,
  };
}
