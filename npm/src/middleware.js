// Framework adapters over `authorizeAsync`: a deny is answered with the decision's status,
// WWW-Authenticate and JSON body; an allow exposes the decision (claims, subject, scopes, headers,
// audit) in the framework's idiom. None imports its framework: they only use its request shape.
// Errors that are not decisions (remote keys not loadable: jwks_invalid, status 500) go to the
// framework's error handling.

function authorizeOptions(options) {
  const now = options.now;
  return typeof now === 'function' ? () => ({ now: now() }) : () => (now === undefined ? {} : { now });
}

function denyHeaders(d) {
  const headers = { 'content-type': 'application/json' };
  if (d.wwwAuthenticate) headers['www-authenticate'] = d.wwwAuthenticate;
  return headers;
}

/**
 * Express (and connect, and plain `node:http`) middleware: `app.use(expressAuth(verifier))`.
 * Handlers read the decision as `req.auth` (`req.auth.claims`, `.subject`, `.scopes`).
 */
export function expressAuth(verifier, options = {}) {
  const property = options.property ?? 'auth';
  const opts = authorizeOptions(options);
  return function tokenward(req, res, next) {
    const request = { method: req.method, url: req.originalUrl ?? req.url, headers: req.headers };
    verifier.authorizeAsync(request, opts()).then((d) => {
      if (!d.allowed) {
        res.writeHead(d.status, denyHeaders(d));
        res.end(d.body);
        return;
      }
      req[property] = d;
      next();
    }, next);
  };
}

/**
 * Fastify plugin (applies to the instance it is registered on and its children, like
 * fastify-plugin): `await app.register(fastifyAuth(verifier))`. Handlers read `request.auth`.
 */
export function fastifyAuth(verifier, options = {}) {
  const property = options.property ?? 'auth';
  const opts = authorizeOptions(options);
  async function tokenward(instance) {
    if (!instance.hasRequestDecorator(property)) instance.decorateRequest(property, null);
    instance.addHook('onRequest', async (request, reply) => {
      const d = await verifier.authorizeAsync(
        { method: request.method, url: request.url, headers: request.headers },
        opts(),
      );
      if (!d.allowed) {
        reply.code(d.status).headers(denyHeaders(d));
        return reply.send(d.body);
      }
      request[property] = d;
    });
  }
  tokenward[Symbol.for('skip-override')] = true;
  tokenward[Symbol.for('fastify.display-name')] = 'tokenward';
  return tokenward;
}

/**
 * Hono middleware (Node, Bun, Deno, Workers): `app.use('*', honoAuth(verifier))`. Handlers read
 * `c.get('auth')`.
 */
export function honoAuth(verifier, options = {}) {
  const property = options.property ?? 'auth';
  const opts = authorizeOptions(options);
  return async function tokenward(c, next) {
    const d = await verifier.authorizeAsync(c.req.raw, opts());
    if (!d.allowed) return c.body(d.body, d.status, denyHeaders(d));
    c.set(property, d);
    await next();
  };
}
