// Request-level conformance vectors (issue "Core request layer"): writes ../request_*.json.
//
//   cd vectors/generate && npm ci && node requests.mjs && npm test
//
// Run on its own or from generate.mjs (which deletes every vectors/*.json first and then imports this module).
// Tokens are minted by jose (HS256 with the oct key hs-1 = keys/hmac.secret, EdDSA with ed-1); each case carries a
// whole HTTP request (`request` instead of `token`) and the decision expected from the request layer: allow/deny,
// code, status, WWW-Authenticate substring, injected headers and audit members. Nothing here uses tokenward.
//
// Output is deterministic (HS256 and EdDSA signatures are deterministic).
import * as jose from 'jose';
import crypto from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const vectorsDir = join(here, '..');
const keysDir = join(vectorsDir, 'keys');

// ---------------------------------------------------------------------------------------------------------------
// Fixed inputs (the same as generate.mjs)
// ---------------------------------------------------------------------------------------------------------------
const NOW = 1767225600; // 2026-01-01T00:00:00Z
const ISS = 'https://idp.example.com';
const AUDS = ['web', 'api', 'a2a', 'mcp'];
const SECURITY = {
  jwt_issuer: ISS,
  jwt_access_token_expiration: 3600,
  jwt_refresh_token_expiration: 604800,
  jwt_audiences: AUDS,
};
const RM = 'https://mcp.example.com/.well-known/oauth-protected-resource';
const RESOURCE = 'https://mcp.example.com';

const readKey = (name) => readFileSync(join(keysDir, name), 'utf8');
const SECRET_BYTES = Buffer.from(readKey('hmac.secret'), 'utf8');
const JWKS = JSON.parse(readKey('jwks.json'));
const jwkByKid = (kid) => structuredClone(JWKS.keys.find((k) => k.kid === kid));
const ED_PRIV = crypto.createPrivateKey(readKey('ed25519.private.pem'));
const OCT = { kty: 'oct', k: SECRET_BYTES.toString('base64url'), kid: 'hs-1', alg: 'HS256' };
const HS_KEYS = { jwks: { keys: [OCT] } };
const ED_KEYS = { jwks: { keys: [jwkByKid('ed-1')] } };

// Default payload, valid at NOW; `undefined` in overrides removes a member.
const claims = (over = {}) => {
  const base = { iss: ISS, aud: 'api', sub: 'u1', iat: NOW - 60, exp: NOW + 600, jti: 'jti-1', ...over };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
};
const EXPIRED = { iat: NOW - 4000, exp: NOW - 3600 };

const hs = (payload) => new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'hs-1' }).sign(SECRET_BYTES);
const ed = (payload) => new jose.SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1' }).sign(ED_PRIV);
const parts = (t) => t.split('.');
const payloadOf = (t) => JSON.parse(Buffer.from(parts(t)[1], 'base64url').toString('utf8'));
function tamperSig(t) {
  const [h, p, s] = parts(t);
  const sig = Buffer.from(s, 'base64url');
  sig[0] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}
const B = (t) => `Bearer ${t}`;

// ---------------------------------------------------------------------------------------------------------------
// Requests, cases, files
// ---------------------------------------------------------------------------------------------------------------
// R('GET', '/x', { authorization: 'Bearer ..' }, { query: 'a=1', requests_in_window: 3 })
function R(method, path, headers = {}, more = {}) {
  const r = { method, path };
  if (Object.keys(headers).length) r.headers = headers;
  if (more.query !== undefined) r.query = more.query;
  if (more.requests_in_window !== undefined) r.requests_in_window = more.requests_in_window;
  return r;
}

const STATUS = { token_missing: 401, invalid_request: 400, insufficient_scope: 403, tenant_mismatch: 403, scanner_blocked: 403 };
const statusOf = (code) => STATUS[code] ?? 401;
const pick = (o, keys) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

// An allowed request. `token` is the token the decision must be based on (null: anonymous / disabled, no claims).
// opts: claims (override), headers, headers_absent, audit (merged over the default audit subset).
function allow(name, request, token, opts = {}) {
  const expect = { valid: true, status: 200 };
  const audit = { time: NOW, decision: 'allow', status: 200 };
  if (token) {
    const p = payloadOf(token);
    expect.claims = opts.claims ?? pick(p, ['sub', 'iss']);
    Object.assign(audit, pick(p, ['sub', 'client_id', 'iss', 'aud', 'jti']));
  }
  if (opts.headers) expect.headers = opts.headers;
  if (opts.headers_absent) expect.headers_absent = opts.headers_absent;
  expect.audit = { ...audit, ...(opts.audit ?? {}) };
  return { name, request, expect };
}
// A denied request. opts: www (substring; default per code, see finish()), audit (merged), headers_absent.
// `scope` is required for insufficient_scope: the challenge's scope="..." value.
function deny(name, request, code, opts = {}) {
  const expect = { valid: false, code, status: statusOf(code) };
  if (code === 'insufficient_scope') {
    if (opts.scope === undefined) throw new Error(`${name}: insufficient_scope without scope`);
    expect.www_authenticate = `Bearer error="insufficient_scope", scope="${opts.scope}"`;
  }
  if (opts.www !== undefined) expect.www_authenticate = opts.www;
  if (opts.headers_absent) expect.headers_absent = opts.headers_absent;
  expect.audit = { time: NOW, decision: 'deny', code, status: statusOf(code), ...(opts.audit ?? {}) };
  return { name, request, expect };
}

const files = [];
// Fills the default WWW-Authenticate expectation of each deny from its code and the policy's resource_metadata.
function file(name, description, policy, cases) {
  const rm = policy.resource_metadata;
  for (const c of cases) {
    const e = c.expect;
    if (e.valid || e.www_authenticate !== undefined) continue;
    if (e.code === 'tenant_mismatch' || e.code === 'scanner_blocked') e.www_authenticate_absent = true;
    else if (e.code === 'token_missing') e.www_authenticate = rm ? `Bearer resource_metadata="${rm}"` : 'Bearer';
    else if (e.code === 'invalid_request') e.www_authenticate = 'Bearer error="invalid_request"';
    else e.www_authenticate = rm ? `resource_metadata="${rm}"` : 'Bearer error="invalid_token"';
  }
  files.push([name, { description, policy, now: NOW, cases }]);
}
function policyFile(name, description, policy, expectPolicy) {
  files.push([name, { description, policy, now: NOW, expect_policy: expectPolicy }]);
}

const hsPolicy = (extra = {}) => ({ security: SECURITY, keys: HS_KEYS, ...extra });

// ===============================================================================================================
// request_extraction.json: the standard preset with default names
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-ext' }));
  const T2 = await hs(claims({ sub: 'u-other', jti: 'jti-2' }));
  const expired = await hs(claims({ sub: 'u-exp', ...EXPIRED }));
  const wrongAud = await hs(claims({ aud: 'elsewhere' }));
  const G = (h, more) => R('GET', '/data', h, more);
  file('request_extraction.json', 'Standard preset: Authorization Bearer, x-mcp-proxy-auth, cookie auth_token; query off. Every extraction rule and failure.', hsPolicy(), [
    allow('authorization_bearer', G({ authorization: B(T) }), T),
    allow('scheme_lowercase', G({ authorization: `bearer ${T}` }), T),
    allow('scheme_uppercase', G({ authorization: `BEARER ${T}` }), T),
    allow('scheme_mixed_case', G({ authorization: `bEaReR ${T}` }), T),
    allow('several_spaces_after_scheme', G({ authorization: `Bearer    ${T}` }), T),
    allow('mcp_header_bearer', G({ 'x-mcp-proxy-auth': B(T) }), T),
    allow('mcp_header_bare_token', G({ 'x-mcp-proxy-auth': T }), T),
    allow('cookie_only', G({ cookie: `auth_token=${T}` }), T),
    allow('cookie_among_others', G({ cookie: `theme=dark; auth_token=${T}; lang=en` }), T),
    allow('cookie_in_second_cookie_header', G({ cookie: ['theme=dark', `auth_token=${T}`] }), T),
    allow('cookie_same_value_twice_in_one_header', G({ cookie: `auth_token=${T}; auth_token=${T}` }), T),
    allow('cookie_same_value_in_two_headers', G({ cookie: [`auth_token=${T}`, `auth_token=${T}`] }), T),
    allow('other_cookie_with_empty_value_ignored', G({ cookie: `theme=; auth_token=${T}` }), T),
    allow('other_cookie_named_twice_ignored', G({ cookie: `theme=dark; theme=light; auth_token=${T}` }), T),
    allow('similar_cookie_names_ignored', G({ cookie: `xauth_token=${T2}; auth_token_old=${T2}; auth_token=${T}` }), T),
    allow('header_and_cookie_same_token', G({ authorization: B(T), cookie: `auth_token=${T}` }), T),
    allow('header_and_mcp_bare_same_token', G({ authorization: B(T), 'x-mcp-proxy-auth': T }), T),
    allow('all_three_sources_same_token', G({ authorization: `bearer ${T}`, 'x-mcp-proxy-auth': B(T), cookie: `auth_token=${T}` }), T),
    allow('basic_authorization_ignored_cookie_used', G({ authorization: 'Basic dXNlcjpwYXNz', cookie: `auth_token=${T}` }), T),
    allow('basic_authorization_ignored_mcp_used', G({ authorization: 'Basic dXNlcjpwYXNz', 'x-mcp-proxy-auth': B(T) }), T),
    allow('query_not_read_by_default_even_if_different', G({ authorization: B(T) }, { query: `access_token=${T2}` }), T),
    allow('scanner_off_by_default_env_path', R('GET', '/.env', { authorization: B(T), 'user-agent': 'sqlmap/1.7' }, { requests_in_window: 100000 }), T),
    deny('no_headers', G(), 'token_missing'),
    deny('unrelated_headers_only', G({ accept: 'application/json', 'user-agent': 'curl/8.0' }), 'token_missing'),
    deny('basic_authorization_is_no_bearer_token', G({ authorization: 'Basic dXNlcjpwYXNz' }), 'token_missing'),
    deny('query_access_token_not_read_by_default', G({}, { query: `access_token=${T}` }), 'token_missing'),
    deny('only_similar_cookie_names', G({ cookie: `xauth_token=${T}; auth_token_old=${T}` }), 'token_missing'),
    deny('header_and_cookie_differ', G({ authorization: B(T), cookie: `auth_token=${T2}` }), 'invalid_request'),
    deny('header_and_mcp_differ', G({ authorization: B(T), 'x-mcp-proxy-auth': T2 }), 'invalid_request'),
    deny('mcp_and_cookie_differ', G({ 'x-mcp-proxy-auth': B(T), cookie: `auth_token=${T2}` }), 'invalid_request'),
    deny('basic_plus_mcp_and_cookie_differ', G({ authorization: 'Basic dXNlcjpwYXNz', 'x-mcp-proxy-auth': T, cookie: `auth_token=${T2}` }), 'invalid_request'),
    deny('two_authorization_headers_equal', G({ authorization: [B(T), B(T)] }), 'invalid_request'),
    deny('two_authorization_headers_different', G({ authorization: [B(T), B(T2)] }), 'invalid_request'),
    deny('comma_joined_credentials', G({ authorization: `Bearer ${T}, Bearer ${T2}` }), 'invalid_request'),
    deny('comma_joined_same_credentials', G({ authorization: `Bearer ${T}, Bearer ${T}` }), 'invalid_request'),
    deny('bearer_without_token', G({ authorization: 'Bearer' }), 'invalid_request'),
    deny('bearer_followed_by_spaces_only', G({ authorization: 'Bearer    ' }), 'invalid_request'),
    deny('bearer_value_with_inner_space', G({ authorization: `Bearer ${T} extra` }), 'invalid_request'),
    deny('cookie_twice_different_values', G({ cookie: `auth_token=${T}; auth_token=${T2}` }), 'invalid_request'),
    deny('cookie_twice_different_values_across_headers', G({ cookie: [`auth_token=${T}`, `auth_token=${T2}`] }), 'invalid_request'),
    deny('cookie_empty_value', G({ cookie: 'theme=dark; auth_token=' }), 'invalid_request'),
    deny('cookie_empty_value_with_bearer_header', G({ authorization: B(T), cookie: 'auth_token=' }), 'invalid_request'),
    deny('cookie_pair_without_equals', G({ cookie: `theme=dark; garbage; auth_token=${T}` }), 'invalid_request'),
    deny('cookie_pair_without_equals_and_no_token_cookie', G({ cookie: 'garbage' }), 'invalid_request'),
    deny('bearer_garbage_token', G({ authorization: 'Bearer not-a-jwt' }), 'token_malformed'),
    deny('bearer_tampered_signature', G({ authorization: B(tamperSig(T)) }), 'signature_invalid'),
    deny('mcp_header_tampered_signature', G({ 'x-mcp-proxy-auth': tamperSig(T) }), 'signature_invalid'),
    deny('bearer_expired', G({ authorization: B(expired) }), 'token_expired'),
    deny('cookie_expired', G({ cookie: `auth_token=${expired}` }), 'token_expired'),
    deny('bearer_wrong_audience', G({ authorization: B(wrongAud) }), 'audience_invalid'),
  ]);
}

// ===============================================================================================================
// request_extraction_custom.json: custom header and cookie names, query opt-in
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-custom' }));
  const T2 = await hs(claims({ sub: 'u-other', jti: 'jti-2' }));
  const G = (h, more) => R('GET', '/data', h, more);
  file('request_extraction_custom.json', 'extraction: mcp_proxy_header x-agent-auth, cookie_name sid, query_param true (access_token, percent-decoded).', hsPolicy({
    extraction: { preset: 'standard', mcp_proxy_header: 'x-agent-auth', cookie_name: 'sid', query_param: true },
  }), [
    allow('query_token', G({}, { query: `access_token=${T}` }), T),
    allow('query_token_percent_encoded', G({}, { query: `access_token=${T.replaceAll('.', '%2E').replaceAll('-', '%2D')}` }), T),
    allow('query_token_among_other_params', G({}, { query: `page=2&access_token=${T}&sort=asc` }), T),
    allow('query_and_header_same_token', G({ authorization: B(T) }, { query: `access_token=${T}` }), T),
    allow('custom_cookie_name', G({ cookie: `sid=${T}` }), T),
    allow('default_cookie_name_ignored_when_renamed', G({ cookie: `auth_token=${T2}; sid=${T}` }), T),
    allow('custom_mcp_header_bearer', G({ 'x-agent-auth': B(T) }), T),
    allow('custom_mcp_header_bare', G({ 'x-agent-auth': T }), T),
    allow('default_mcp_header_ignored_when_renamed', G({ authorization: B(T), 'x-mcp-proxy-auth': T2 }), T),
    deny('query_and_header_differ', G({ authorization: B(T) }, { query: `access_token=${T2}` }), 'invalid_request'),
    deny('query_and_cookie_differ', G({ cookie: `sid=${T}` }, { query: `access_token=${T2}` }), 'invalid_request'),
    deny('default_cookie_name_only', G({ cookie: `auth_token=${T}` }), 'token_missing'),
    deny('default_mcp_header_only', G({ 'x-mcp-proxy-auth': T }), 'token_missing'),
    deny('similar_query_param_name', G({}, { query: `xaccess_token=${T}&access_token_x=${T}` }), 'token_missing'),
    deny('query_garbage_token', G({}, { query: 'access_token=garbage' }), 'token_malformed'),
    deny('custom_cookie_empty_value', G({ cookie: 'sid=' }), 'invalid_request'),
    deny('custom_mcp_header_differs_from_cookie', G({ 'x-agent-auth': T, cookie: `sid=${T2}` }), 'invalid_request'),
  ]);
}

// ===============================================================================================================
// request_browser_only.json
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-browser' }));
  const T2 = await hs(claims({ sub: 'u-header', jti: 'jti-2' }));
  const expired = await hs(claims({ sub: 'u-exp', ...EXPIRED }));
  const G = (h, more) => R('GET', '/app', h, more);
  file('request_browser_only.json', 'extraction.preset browser_only: only the auth_token cookie is read; Authorization and the MCP header are ignored.', hsPolicy({
    extraction: { preset: 'browser_only' },
  }), [
    allow('cookie', G({ cookie: `auth_token=${T}` }), T),
    allow('cookie_wins_over_different_bearer_header', G({ authorization: B(T2), cookie: `auth_token=${T}` }), T),
    allow('different_mcp_header_ignored', G({ 'x-mcp-proxy-auth': T2, cookie: `auth_token=${T}` }), T),
    allow('invalid_authorization_ignored', G({ authorization: ['Bearer', B(T2)], cookie: `auth_token=${T}` }), T),
    deny('bearer_header_only', G({ authorization: B(T) }), 'token_missing'),
    deny('mcp_header_only', G({ 'x-mcp-proxy-auth': B(T) }), 'token_missing'),
    deny('query_only', G({}, { query: `access_token=${T}` }), 'token_missing'),
    deny('no_token', G(), 'token_missing'),
    deny('cookie_expired', G({ cookie: `auth_token=${expired}` }), 'token_expired'),
    deny('cookie_twice_different', G({ cookie: `auth_token=${T}; auth_token=${T2}` }), 'invalid_request'),
    deny('cookie_pair_without_equals', G({ cookie: `auth_token=${T}; junk` }), 'invalid_request'),
  ]);
}

// ===============================================================================================================
// request_modes_optional.json: auth_mode optional at policy level, routes overriding it
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-opt', scope: 'read', tenant_id: 'acme' }));
  const noScope = await hs(claims({ sub: 'u-noscope', tenant_id: 'acme' }));
  const expired = await hs(claims({ ...EXPIRED }));
  const routes = [
    { path: '/health', auth_mode: 'disabled' },
    { path_prefix: '/secure', auth_mode: 'required' },
    { path_prefix: '/scoped', scopes: { all_of: ['read'] } },
    { path_prefix: '/t/', tenant: { path_segment: 1 } },
  ];
  file('request_modes_optional.json', 'auth_mode optional: no token = anonymous allow; bad tokens and invalid requests still rejected; routes with scopes or tenant need a token.', hsPolicy({
    auth_mode: 'optional', claim_to_headers: { sub: 'x-user-id' }, routes,
  }), [
    allow('no_token_anonymous', R('GET', '/page'), null, { headers_absent: ['x-user-id'] }),
    allow('basic_authorization_anonymous', R('GET', '/page', { authorization: 'Basic dXNlcjpwYXNz' }), null, { headers_absent: ['x-user-id'] }),
    allow('valid_token', R('GET', '/page', { authorization: B(T) }), T, { headers: { 'x-user-id': 'u-opt' } }),
    deny('expired_token_rejected', R('GET', '/page', { authorization: B(expired) }), 'token_expired'),
    deny('garbage_token_rejected', R('GET', '/page', { cookie: 'auth_token=garbage' }), 'token_malformed'),
    deny('tampered_token_rejected', R('GET', '/page', { authorization: B(tamperSig(T)) }), 'signature_invalid'),
    deny('invalid_request_rejected', R('GET', '/page', { authorization: [B(T), B(T)] }), 'invalid_request'),
    deny('bearer_without_token_rejected', R('GET', '/page', { authorization: 'Bearer ' }), 'invalid_request'),
    deny('required_route_no_token', R('GET', '/secure/x'), 'token_missing', { audit: { route: '/secure' } }),
    allow('required_route_valid_token', R('GET', '/secure/x', { authorization: B(T) }), T, { audit: { route: '/secure' } }),
    deny('scoped_route_no_token', R('GET', '/scoped'), 'token_missing', { audit: { route: '/scoped', scopes_required: ['read'] } }),
    allow('scoped_route_valid', R('GET', '/scoped', { authorization: B(T) }), T, { audit: { route: '/scoped', scopes_required: ['read'] } }),
    deny('scoped_route_lacking_scope', R('GET', '/scoped', { authorization: B(noScope) }), 'insufficient_scope', { scope: 'read' }),
    deny('tenant_route_no_token', R('GET', '/t/acme/x'), 'token_missing', { audit: { route: '/t/' } }),
    allow('tenant_route_valid', R('GET', '/t/acme/x', { authorization: B(T) }), T, { audit: { route: '/t/' } }),
    allow('disabled_route_garbage_authorization', R('GET', '/health', { authorization: 'Bearer garbage' }), null, { headers_absent: ['x-user-id'], audit: { route: '/health' } }),
  ]);
}

// ===============================================================================================================
// request_modes_disabled.json: auth_mode disabled at policy level
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-dis' }));
  const expired = await hs(claims({ ...EXPIRED }));
  const routes = [
    { path_prefix: '/api', auth_mode: 'required' },
    { path_prefix: '/opt', auth_mode: 'optional' },
  ];
  file('request_modes_disabled.json', 'auth_mode disabled: nothing is extracted or validated, whatever the request carries; routes may re-enable auth.', hsPolicy({
    auth_mode: 'disabled', claim_to_headers: { sub: 'x-user-id' }, routes,
  }), [
    allow('no_token', R('GET', '/page'), null),
    allow('garbage_authorization', R('GET', '/page', { authorization: 'Bearer garbage' }), null, { headers_absent: ['x-user-id'] }),
    allow('valid_token_not_extracted', R('GET', '/page', { authorization: B(T) }), null, { headers_absent: ['x-user-id'] }),
    allow('two_authorization_headers_not_inspected', R('GET', '/page', { authorization: [B(T), 'Bearer other'] }), null),
    allow('malformed_cookie_not_inspected', R('GET', '/page', { cookie: 'junk; auth_token=' }), null),
    allow('prefix_is_segment_bound', R('GET', '/apix'), null),
    deny('required_route_no_token', R('GET', '/api/v1'), 'token_missing', { audit: { route: '/api' } }),
    allow('required_route_valid', R('GET', '/api/v1', { authorization: B(T) }), T, { headers: { 'x-user-id': 'u-dis' }, audit: { route: '/api' } }),
    deny('required_route_expired', R('GET', '/api', { authorization: B(expired) }), 'token_expired', { audit: { route: '/api' } }),
    allow('optional_route_no_token', R('POST', '/opt/form'), null, { audit: { route: '/opt' } }),
    allow('optional_route_valid', R('POST', '/opt/form', { cookie: `auth_token=${T}` }), T, { headers: { 'x-user-id': 'u-dis' }, audit: { route: '/opt' } }),
    deny('optional_route_tampered', R('POST', '/opt/form', { authorization: B(tamperSig(T)) }), 'signature_invalid', { audit: { route: '/opt' } }),
  ]);
}

// ===============================================================================================================
// request_routes.json: matching (exact, prefix, trailing slash, methods, first match), route audiences
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-route' }));
  const admin = await hs(claims({ sub: 'u-admin', scope: 'admin' }));
  const superadmin = await hs(claims({ sub: 'u-super', scope: 'superadmin' }));
  const mcp = await hs(claims({ sub: 'u-mcp', aud: 'mcp' }));
  const toolsOnly = await hs(claims({ sub: 'u-tools', aud: 'tools-only' }));
  const mixed = await hs(claims({ sub: 'u-mixed', aud: ['api', 'mcp'] }));
  const routes = [
    { path_prefix: '/', methods: ['OPTIONS'], auth_mode: 'disabled' },
    { path: '/health', auth_mode: 'disabled' },
    { path: '/exact', auth_mode: 'disabled' },
    { path_prefix: '/admin', methods: ['GET', 'POST'], scopes: { all_of: ['admin'] } },
    { path_prefix: '/admin', scopes: { all_of: ['superadmin'] } },
    { path_prefix: '/tools', audiences: ['mcp', 'tools-only'] },
    { path_prefix: '/tools/special', auth_mode: 'disabled' },
    { path_prefix: '/t/', auth_mode: 'disabled' },
  ];
  const A = (t) => ({ authorization: B(t) });
  const adminRule = { route: '/admin', scopes_required: ['admin'] };
  const superRule = { route: '/admin', scopes_required: ['superadmin'] };
  file('request_routes.json', 'Route matching: ordered, first match wins; exact path vs segment-bound prefix, trailing slash, case-sensitive methods, default rule; route audiences replace jwt_audiences.', hsPolicy({ routes }), [
    allow('exact_path_disabled', R('GET', '/health'), null, { audit: { route: '/health' } }),
    allow('exact_path_query_ignored', R('GET', '/health', {}, { query: 'probe=1' }), null, { audit: { route: '/health' } }),
    deny('exact_path_trailing_slash_not_matched', R('GET', '/health/'), 'token_missing'),
    deny('exact_path_longer_not_matched', R('GET', '/health/live'), 'token_missing'),
    deny('exact_path_suffix_chars_not_matched', R('GET', '/healthz'), 'token_missing'),
    allow('exact_path_second_rule', R('GET', '/exact'), null, { audit: { route: '/exact' } }),
    deny('exact_path_second_rule_trailing_slash', R('GET', '/exact/'), 'token_missing'),
    deny('root_path_default_rule', R('GET', '/'), 'token_missing'),
    allow('root_path_default_rule_valid_token', R('GET', '/', A(T)), T),
    allow('options_any_path_disabled', R('OPTIONS', '/admin/users'), null, { audit: { route: '/' } }),
    deny('options_lowercase_method_not_matched', R('options', '/admin/users'), 'token_missing', { audit: superRule }),
    allow('admin_get_with_admin', R('GET', '/admin', A(admin)), admin, { audit: adminRule }),
    allow('admin_post_subpath_with_admin', R('POST', '/admin/users/7', A(admin)), admin, { audit: adminRule }),
    deny('admin_get_without_admin', R('GET', '/admin/users', A(T)), 'insufficient_scope', { scope: 'admin', audit: adminRule }),
    deny('admin_lowercase_get_falls_to_next_rule', R('get', '/admin', A(admin)), 'insufficient_scope', { scope: 'superadmin', audit: superRule }),
    deny('admin_delete_falls_to_next_rule', R('DELETE', '/admin/users/7', A(admin)), 'insufficient_scope', { scope: 'superadmin', audit: superRule }),
    allow('admin_delete_with_superadmin', R('DELETE', '/admin/users/7', A(superadmin)), superadmin, { audit: superRule }),
    deny('admin_get_with_superadmin_only', R('GET', '/admin', A(superadmin)), 'insufficient_scope', { scope: 'admin', audit: adminRule }),
    allow('prefix_not_segment_boundary_administrator', R('GET', '/administrator', A(T)), T),
    allow('prefix_not_segment_boundary_dash', R('GET', '/admin-panel', A(T)), T),
    allow('tools_route_mcp_audience', R('POST', '/tools', A(mcp)), mcp, { audit: { route: '/tools', aud: 'mcp' } }),
    allow('tools_route_second_route_audience', R('POST', '/tools/run', A(toolsOnly)), toolsOnly, { audit: { route: '/tools', aud: 'tools-only' } }),
    allow('tools_route_audience_array_intersects', R('POST', '/tools/run', A(mixed)), mixed, { audit: { route: '/tools', aud: ['api', 'mcp'] } }),
    deny('tools_route_replaces_policy_audiences', R('POST', '/tools/run', A(T)), 'audience_invalid', { audit: { route: '/tools' } }),
    deny('tools_route_trailing_slash_matches_prefix', R('GET', '/tools/', A(T)), 'audience_invalid', { audit: { route: '/tools' } }),
    allow('tools_dash_is_default_rule', R('GET', '/tools-x', A(T)), T),
    deny('route_audience_not_valid_on_default_rule', R('GET', '/other', A(toolsOnly)), 'audience_invalid'),
    deny('first_match_wins_over_later_disabled_rule', R('GET', '/tools/special'), 'token_missing', { audit: { route: '/tools' } }),
    allow('prefix_ending_in_slash', R('GET', '/t/anything'), null, { audit: { route: '/t/' } }),
    allow('prefix_ending_in_slash_deep', R('GET', '/t/a/b/c'), null, { audit: { route: '/t/' } }),
    deny('prefix_ending_in_slash_not_without_slash', R('GET', '/tx'), 'token_missing'),
  ]);
}

// ===============================================================================================================
// request_resource.json: RFC 8707 resource, RFC 9728 resource_metadata
// ===============================================================================================================
{
  const good = await hs(claims({ sub: 'u-res', aud: ['api', RESOURCE], scope: 'tools:execute', tenant_id: 'acme' }));
  const onlyResource = await hs(claims({ aud: RESOURCE }));
  const noResource = await hs(claims({ aud: 'api' }));
  const slash = await hs(claims({ aud: ['api', `${RESOURCE}/`] }));
  const upper = await hs(claims({ aud: ['api', 'https://MCP.example.com'] }));
  const expired = await hs(claims({ aud: ['api', RESOURCE], ...EXPIRED }));
  const noScope = await hs(claims({ aud: ['api', RESOURCE], tenant_id: 'acme' }));
  const A = (t) => ({ authorization: B(t) });
  file('request_resource.json', 'resource (one aud entry must equal it, on top of jwt_audiences) and resource_metadata (on every 401 challenge).', {
    security: { ...SECURITY, jwt_audiences: ['api', 'mcp'] },
    keys: HS_KEYS,
    resource: RESOURCE,
    resource_metadata: RM,
    routes: [
      { path_prefix: '/tools', scopes: { any_of: ['tools:read', 'tools:execute'] } },
      { path_prefix: '/t/', tenant: { path_segment: 1 } },
      { path: '/open', auth_mode: 'optional' },
    ],
  }, [
    allow('aud_array_with_resource', R('GET', '/data', A(good)), good),
    allow('tools_with_scope', R('POST', '/tools/run', A(good)), good, { audit: { route: '/tools', scopes_required: ['tools:read', 'tools:execute'] } }),
    allow('tenant_route_valid', R('GET', '/t/acme/x', A(good)), good),
    allow('optional_route_anonymous', R('GET', '/open'), null),
    deny('aud_only_resource_misses_jwt_audiences', R('GET', '/data', A(onlyResource)), 'audience_invalid'),
    deny('aud_without_resource', R('GET', '/data', A(noResource)), 'audience_invalid'),
    deny('aud_resource_trailing_slash', R('GET', '/data', A(slash)), 'audience_invalid'),
    deny('aud_resource_case_differs', R('GET', '/data', A(upper)), 'audience_invalid'),
    deny('optional_route_token_without_resource', R('GET', '/open', A(noResource)), 'audience_invalid'),
    deny('token_missing_challenge', R('GET', '/data'), 'token_missing'),
    deny('expired_challenge', R('GET', '/data', A(expired)), 'token_expired'),
    deny('expired_challenge_error_first', R('GET', '/data', A(expired)), 'token_expired', { www: 'Bearer error="invalid_token", error_description="' }),
    deny('signature_invalid_challenge', R('GET', '/data', A(tamperSig(good))), 'signature_invalid'),
    deny('malformed_challenge', R('GET', '/data', A('a.b')), 'token_malformed'),
    deny('invalid_request_400', R('GET', '/data', A(`${good}, Bearer x`)), 'invalid_request'),
    deny('insufficient_scope_403', R('POST', '/tools/run', A(noScope)), 'insufficient_scope', { scope: 'tools:read tools:execute' }),
    deny('tenant_mismatch_403_no_challenge', R('GET', '/t/other/x', A(good)), 'tenant_mismatch'),
  ]);
}

// ===============================================================================================================
// request_scopes.json: all_of, any_of, both, scope/scp union, transitive hierarchy
// ===============================================================================================================
{
  const tok = (sub, over) => hs(claims({ sub, ...over }));
  const routes = [
    { path_prefix: '/all', scopes: { all_of: ['user', 'tools:read'] } },
    { path_prefix: '/any', scopes: { any_of: ['tools:read', 'tools:execute'] } },
    { path_prefix: '/both', scopes: { all_of: ['billing:read'], any_of: ['tools:list', 'reports'] } },
    { path_prefix: '/list', scopes: { all_of: ['tools:list'] } },
    { path_prefix: '/admin', scopes: { all_of: ['admin'] } },
  ];
  const hierarchy = {
    admin: ['user', 'tools:execute'],
    'tools:execute': ['tools:read'],
    'tools:read': ['tools:list'],
    'billing:write': ['billing:read'],
  };
  const A = (t) => ({ authorization: B(t) });
  const ALL = { route: '/all', scopes_required: ['user', 'tools:read'] };
  const ANY = { route: '/any', scopes_required: ['tools:read', 'tools:execute'] };
  const BOTH = { route: '/both', scopes_required: ['billing:read', 'tools:list', 'reports'] };
  const c = [];
  const ok = async (name, path, over, audit) => { const t = await tok(name, over); c.push(allow(name, R('GET', path, A(t)), t, { audit })); };
  const no = async (name, path, over, scope, audit) => { const t = await tok(name, over); c.push(deny(name, R('GET', path, A(t)), 'insufficient_scope', { scope, audit })); };
  await ok('all_of_scope_string', '/all', { scope: 'user tools:read' }, ALL);
  await ok('all_of_scope_string_extra_spaces', '/all/x', { scope: '  tools:read   user ' }, ALL);
  await ok('all_of_scp_array', '/all', { scp: ['user', 'tools:read'] }, ALL);
  await ok('all_of_scp_string', '/all', { scp: 'user tools:read' }, ALL);
  await ok('all_of_union_scope_and_scp', '/all', { scope: 'user', scp: ['tools:read'] }, ALL);
  await ok('all_of_union_scope_and_scp_string', '/all', { scope: 'tools:read', scp: 'user' }, ALL);
  await ok('all_of_by_hierarchy_transitive', '/all', { scope: 'admin' }, ALL);
  await ok('all_of_mixed_direct_and_implied', '/all', { scope: 'user tools:execute' }, ALL);
  await no('all_of_one_missing', '/all', { scope: 'user' }, 'user tools:read', ALL);
  await no('all_of_no_scope_claim', '/all', {}, 'user tools:read', ALL);
  await no('all_of_hierarchy_not_upward', '/all', { scope: 'user tools:list' }, 'user tools:read', ALL);
  await no('all_of_empty_scope_and_scp', '/all', { scope: '', scp: [] }, 'user tools:read', ALL);
  await ok('any_of_first', '/any', { scope: 'tools:read' }, ANY);
  await ok('any_of_second', '/any', { scp: ['tools:execute'] }, ANY);
  await ok('any_of_by_hierarchy', '/any', { scope: 'admin' }, ANY);
  await no('any_of_only_child_scope', '/any', { scope: 'tools:list' }, 'tools:read tools:execute', ANY);
  await no('any_of_case_sensitive', '/any', { scope: 'Tools:Read TOOLS:EXECUTE' }, 'tools:read tools:execute', ANY);
  await no('any_of_no_prefix_match', '/any', { scope: 'tools tools:re' }, 'tools:read tools:execute', ANY);
  await ok('both_all_by_hierarchy_any_direct', '/both', { scope: 'billing:write tools:list' }, BOTH);
  await ok('both_direct', '/both', { scope: 'billing:read', scp: ['reports'] }, BOTH);
  await ok('both_any_two_levels_down', '/both', { scope: 'billing:read tools:execute' }, BOTH);
  await no('both_any_missing', '/both', { scope: 'billing:read' }, 'billing:read tools:list reports', BOTH);
  await no('both_all_missing', '/both', { scope: 'reports tools:list' }, 'billing:read tools:list reports', BOTH);
  await ok('list_three_levels_down', '/list', { scope: 'admin' }, { route: '/list', scopes_required: ['tools:list'] });
  await ok('admin_via_scp_array', '/admin/x', { scp: ['admin'] }, { route: '/admin', scopes_required: ['admin'] });
  await no('admin_not_implied_by_children', '/admin', { scope: 'user tools:execute tools:read tools:list' }, 'admin', { route: '/admin', scopes_required: ['admin'] });
  await ok('default_rule_needs_no_scope', '/other', {});
  {
    const t = await tok('bad-scope-type', { scope: 42 });
    c.push(deny('scope_claim_not_a_string', R('GET', '/other', A(t)), 'claim_invalid'));
  }
  file('request_scopes.json', 'Route scopes: all_of, any_of, both in one rule; granted = scope + scp, expanded by scope_hierarchy transitively.', hsPolicy({ scope_hierarchy: hierarchy, routes }), c);
}

policyFile('request_policy_scope_hierarchy_cycle.json', 'scope_hierarchy with a two-scope cycle is refused.', hsPolicy({ scope_hierarchy: { a: ['b'], b: ['a'] } }), { valid: false, code: 'policy_invalid', message_contains: 'scope_hierarchy' });
policyFile('request_policy_scope_hierarchy_self_cycle.json', 'scope_hierarchy where a scope implies itself is a cycle.', hsPolicy({ scope_hierarchy: { admin: ['admin'] } }), { valid: false, code: 'policy_invalid', message_contains: 'scope_hierarchy' });
policyFile('request_policy_scope_hierarchy_long_cycle.json', 'scope_hierarchy with a three-scope cycle behind an acyclic entry.', hsPolicy({ scope_hierarchy: { root: ['a'], a: ['b'], b: ['c'], c: ['a'] } }), { valid: false, code: 'policy_invalid', message_contains: 'scope_hierarchy' });
policyFile('request_policy_scope_hierarchy_diamond_valid.json', 'A diamond (two paths to one scope) is not a cycle.', hsPolicy({ scope_hierarchy: { a: ['b', 'c'], b: ['d'], c: ['d'] } }), { valid: true, warnings: [] });

// ===============================================================================================================
// request_tenant.json
// ===============================================================================================================
{
  const acme = await hs(claims({ sub: 'u-acme', tenant_id: 'acme', scope: 'tools:read' }));
  const acmeNoScope = await hs(claims({ sub: 'u-acme2', tenant_id: 'acme' }));
  const noTenant = await hs(claims({ sub: 'u-none' }));
  const numeric = await hs(claims({ sub: 'u-num', tenant_id: 42 }));
  const expiredOther = await hs(claims({ tenant_id: 'other', ...EXPIRED }));
  const routes = [
    { path_prefix: '/t/', tenant: { path_segment: 1 } },
    { path_prefix: '/h', tenant: { header: 'x-tenant-id' } },
    { path_prefix: '/orgs', tenant: { path_segment: 2 } },
    { path_prefix: '/both', scopes: { all_of: ['tools:write'] }, tenant: { header: 'x-tenant-id' } },
  ];
  const A = (t, h = {}) => ({ authorization: B(t), ...h });
  const TS = { route: '/t/' };
  file('request_tenant.json', 'Route tenant: the token tenant_id (a string) must equal the x-tenant-id header or a path segment (counted from 0 after the leading slash).', hsPolicy({ routes }), [
    allow('path_segment_match', R('GET', '/t/acme/x', A(acme)), acme, { audit: TS }),
    allow('path_segment_last', R('GET', '/t/acme', A(acme)), acme, { audit: TS }),
    allow('path_segment_wins_over_header', R('GET', '/t/acme/x', A(acme, { 'x-tenant-id': 'other' })), acme, { audit: TS }),
    deny('path_segment_different', R('GET', '/t/other/x', A(acme)), 'tenant_mismatch', { audit: TS }),
    deny('path_segment_case_differs', R('GET', '/t/ACME/x', A(acme)), 'tenant_mismatch', { audit: TS }),
    deny('path_segment_claim_missing', R('GET', '/t/acme/x', A(noTenant)), 'tenant_mismatch', { audit: TS }),
    deny('path_segment_claim_not_a_string', R('GET', '/t/42/x', A(numeric)), 'tenant_mismatch', { audit: TS }),
    allow('header_match', R('GET', '/h', A(acme, { 'x-tenant-id': 'acme' })), acme, { audit: { route: '/h' } }),
    allow('header_match_subpath', R('POST', '/h/items', A(acme, { 'x-tenant-id': 'acme' })), acme, { audit: { route: '/h' } }),
    deny('header_missing', R('GET', '/h', A(acme)), 'tenant_mismatch', { audit: { route: '/h' } }),
    deny('header_different', R('GET', '/h', A(acme, { 'x-tenant-id': 'globex' })), 'tenant_mismatch', { audit: { route: '/h' } }),
    deny('header_claim_missing', R('GET', '/h', A(noTenant, { 'x-tenant-id': 'acme' })), 'tenant_mismatch', { audit: { route: '/h' } }),
    allow('segment_2_match', R('GET', '/orgs/eu/acme', A(acme)), acme, { audit: { route: '/orgs' } }),
    deny('segment_2_missing', R('GET', '/orgs/eu', A(acme)), 'tenant_mismatch', { audit: { route: '/orgs' } }),
    deny('segment_2_is_not_segment_1', R('GET', '/orgs/acme/eu', A(acme)), 'tenant_mismatch', { audit: { route: '/orgs' } }),
    deny('scopes_checked_before_tenant', R('GET', '/both', A(acmeNoScope, { 'x-tenant-id': 'globex' })), 'insufficient_scope', { scope: 'tools:write' }),
    deny('token_checked_before_tenant', R('GET', '/t/acme/x', A(expiredOther)), 'token_expired', { audit: TS }),
    deny('no_token_is_token_missing', R('GET', '/t/acme/x'), 'token_missing', { audit: TS }),
    allow('default_rule_no_tenant_check', R('GET', '/elsewhere', A(noTenant, { 'x-tenant-id': 'acme' })), noTenant),
  ]);
}

// ===============================================================================================================
// request_scanner_block.json, request_scanner_flag.json, request_scanner_off.json
// ===============================================================================================================
{
  const T = await hs(claims({ sub: 'u-scan' }));
  const A = (t, h = {}) => ({ authorization: B(t), ...h });
  const BL = { scanner: 'blocked' };
  const blocked = (name, request, audit = {}) => deny(name, request, 'scanner_blocked', { audit: { ...BL, ...audit }, headers_absent: ['x-trace-id'] });
  file('request_scanner_block.json', 'scanner.mode block: built-in and configured paths (exact, prefix/, *suffix), user agents (case-insensitive substring), velocity (> max passes at ==); before routes and auth.', hsPolicy({
    scanner: { mode: 'block', paths: ['/internal/debug', '/backup/', '*.bak'], user_agents: ['evilbot'], max_requests_per_window: 100 },
    routes: [{ path: '/health', auth_mode: 'disabled' }],
  }), [
    blocked('default_path_env', R('GET', '/.env')),
    blocked('default_path_git_prefix', R('GET', '/.git/config')),
    blocked('default_path_wp_admin_exact', R('GET', '/wp-admin')),
    blocked('default_suffix_php', R('GET', '/index.php')),
    blocked('default_suffix_php_deep', R('POST', '/wp-admin/setup/install.php')),
    blocked('configured_exact_path', R('GET', '/internal/debug')),
    blocked('configured_prefix_path', R('GET', '/backup/db.sql')),
    blocked('configured_suffix_path', R('GET', '/site/dump.bak')),
    blocked('default_ua_sqlmap', R('GET', '/data', { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' })),
    blocked('default_ua_nuclei_case_insensitive', R('GET', '/data', { 'user-agent': 'Mozilla/5.0 (compatible; Nuclei - Open-source project)' })),
    blocked('default_ua_nikto_uppercase', R('GET', '/data', { 'user-agent': 'NIKTO/2.5' })),
    blocked('default_ua_masscan', R('GET', '/data', { 'user-agent': 'masscan/1.3' })),
    blocked('default_ua_zgrab', R('GET', '/data', { 'user-agent': 'Mozilla/5.0 zgrab/0.x' })),
    blocked('configured_ua', R('GET', '/data', { 'user-agent': 'EvilBot/9' })),
    blocked('velocity_over_max', R('GET', '/data', A(T), { requests_in_window: 101 })),
    blocked('blocked_on_disabled_route', R('GET', '/health', { 'user-agent': 'sqlmap' })),
    blocked('blocked_despite_valid_token', R('GET', '/.env', A(T))),
    blocked('blocked_before_token_checks', R('GET', '/.env', { authorization: ['Bearer garbage', 'Bearer x'] })),
    blocked('blocked_audit_trace_id', R('GET', '/.env', { 'x-trace-id': 'trace-scan-1' }), { trace_id: 'trace-scan-1' }),
    allow('velocity_at_max_passes', R('GET', '/data', A(T), { requests_in_window: 100 }), T),
    allow('normal_ua_passes', R('GET', '/data', A(T, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' })), T),
    allow('disabled_route_clean_request', R('GET', '/health'), null, { audit: { route: '/health' } }),
    deny('exact_default_not_a_prefix', R('GET', '/.env.example'), 'token_missing'),
    deny('exact_default_anchored_at_start', R('GET', '/app/.env'), 'token_missing'),
    deny('prefix_default_not_a_bare_string_prefix', R('GET', '/.gitignore'), 'token_missing'),
    deny('prefix_default_anchored_at_start', R('GET', '/repo/.git/config'), 'token_missing'),
    deny('suffix_default_is_a_suffix', R('GET', '/index.php5'), 'token_missing'),
    deny('suffix_default_needs_the_dot', R('GET', '/php'), 'token_missing'),
    deny('configured_exact_not_a_prefix', R('GET', '/internal/debugger'), 'token_missing'),
    deny('configured_exact_not_a_parent', R('GET', '/internal/debug/x'), 'token_missing'),
    deny('configured_suffix_not_in_the_middle', R('GET', '/site/dump.bak.txt'), 'token_missing'),
    deny('configured_ua_substring_only', R('GET', '/data', { 'user-agent': 'evil-bot/1' }), 'token_missing'),
  ]);

  const FL = { scanner: 'flagged' };
  file('request_scanner_flag.json', 'scanner.mode flag: the request proceeds normally and the audit carries scanner: flagged.', hsPolicy({
    scanner: { mode: 'flag', max_requests_per_window: 10 },
    routes: [{ path: '/health', auth_mode: 'disabled' }],
  }), [
    allow('env_path_valid_token_allowed_flagged', R('GET', '/.env', A(T)), T, { audit: FL }),
    deny('env_path_no_token_flagged', R('GET', '/.env'), 'token_missing', { audit: FL }),
    deny('php_path_no_token_flagged', R('GET', '/x.php'), 'token_missing', { audit: FL }),
    allow('ua_sqlmap_allowed_flagged', R('GET', '/data', A(T, { 'user-agent': 'sqlmap/1.7' })), T, { audit: FL }),
    allow('ua_zgrab_allowed_flagged', R('GET', '/data', A(T, { 'user-agent': 'zgrab/0.x' })), T, { audit: FL }),
    allow('velocity_over_max_allowed_flagged', R('GET', '/data', A(T), { requests_in_window: 11 }), T, { audit: FL }),
    allow('velocity_at_max_allowed', R('GET', '/data', A(T), { requests_in_window: 10 }), T),
    allow('disabled_route_flagged', R('GET', '/health', { 'user-agent': 'Nikto' }), null, { audit: { ...FL, route: '/health' } }),
    deny('bad_token_still_rejected_flagged', R('GET', '/.git/HEAD', A(tamperSig(T))), 'signature_invalid', { audit: FL }),
  ]);

  file('request_scanner_off.json', 'scanner.mode off (explicit, with configured lists): nothing is detected.', hsPolicy({
    scanner: { mode: 'off', paths: ['/secret-dump'], user_agents: ['evilbot'], max_requests_per_window: 1 },
  }), [
    allow('env_path_allowed', R('GET', '/.env', A(T)), T),
    allow('configured_path_allowed', R('GET', '/secret-dump', A(T)), T),
    allow('ua_allowed', R('GET', '/data', A(T, { 'user-agent': 'sqlmap evilbot' })), T),
    allow('velocity_allowed', R('GET', '/data', A(T), { requests_in_window: 1000000 }), T),
    deny('env_path_no_token_is_token_missing', R('GET', '/.env'), 'token_missing'),
  ]);
}

// ===============================================================================================================
// request_headers.json: injected headers (claim_to_headers of each JSON type, payload header, context headers)
// ===============================================================================================================
{
  const full = await hs(claims({
    sub: 'user-7',
    tenant_id: 'acme',
    roles: ['admin', 'dev'],
    org: { id: 'org-1', region: { code: 'eu-1' } },
    level: 3,
    ratio: 0.5,
    verified: true,
    meta: { a: 1, b: [true, 'x'], c: null },
  }));
  const other = await hs(claims({ sub: 'user-8', tenant_id: 42, roles: ['viewer'], level: -12, verified: false, org: { region: { code: 'us' } } }));
  const bare = await hs(claims({ sub: 'user-9', roles: [] }));
  const expired = await hs(claims({ sub: 'user-7', tenant_id: 'acme', ...EXPIRED }));
  const A = (t, h = {}) => ({ authorization: B(t), ...h });
  const CTX = { 'x-trace-id': 'trace-abc', 'x-context-id': 'ctx-1', 'x-agent-name': 'agent-007' };
  const ALL_INJECTED = ['x-user-id', 'x-tenant-id', 'x-user-roles', 'x-org-id', 'x-org', 'x-region', 'x-level', 'x-ratio', 'x-verified', 'x-meta', 'x-jwt-payload', 'x-trace-id', 'x-context-id', 'x-agent-name'];
  file('request_headers.json', 'Injected upstream headers: claim_to_headers (strings as is, numbers/booleans as JSON, arrays joined with ",", objects compact JSON, dotted paths), payload_header, default context header names.', hsPolicy({
    claim_to_headers: {
      sub: 'x-user-id', tenant_id: 'x-tenant-id', roles: 'x-user-roles', 'org.id': 'x-org-id', org: 'x-org',
      'org.region.code': 'x-region', level: 'x-level', ratio: 'x-ratio', verified: 'x-verified', meta: 'x-meta',
    },
    payload_header: 'x-jwt-payload',
    routes: [{ path: '/public', auth_mode: 'disabled' }],
  }), [
    allow('every_json_type', R('GET', '/data', A(full)), full, {
      headers: {
        'x-user-id': 'user-7', 'x-tenant-id': 'acme', 'x-user-roles': 'admin,dev', 'x-org-id': 'org-1',
        'x-org': '{"id":"org-1","region":{"code":"eu-1"}}', 'x-region': 'eu-1', 'x-level': '3', 'x-ratio': '0.5',
        'x-verified': 'true', 'x-meta': '{"a":1,"b":[true,"x"],"c":null}', 'x-jwt-payload': parts(full)[1],
      },
    }),
    allow('number_false_single_element_nested_missing', R('GET', '/data', A(other)), other, {
      headers: { 'x-user-id': 'user-8', 'x-tenant-id': '42', 'x-user-roles': 'viewer', 'x-level': '-12', 'x-verified': 'false', 'x-region': 'us', 'x-org': '{"region":{"code":"us"}}', 'x-jwt-payload': parts(other)[1] },
      headers_absent: ['x-org-id', 'x-ratio', 'x-meta'],
    }),
    allow('empty_array_and_missing_claims_omitted', R('GET', '/data', A(bare)), bare, {
      headers: { 'x-user-id': 'user-9', 'x-jwt-payload': parts(bare)[1] },
      headers_absent: ['x-user-roles', 'x-tenant-id', 'x-org-id', 'x-org', 'x-region', 'x-level', 'x-ratio', 'x-verified', 'x-meta'],
    }),
    allow('payload_header_from_cookie_token', R('GET', '/data', { cookie: `auth_token=${full}` }), full, { headers: { 'x-jwt-payload': parts(full)[1], 'x-user-id': 'user-7' } }),
    allow('context_headers_forwarded', R('GET', '/data', A(full, CTX)), full, { headers: { ...CTX, 'x-user-id': 'user-7' }, audit: { trace_id: 'trace-abc' } }),
    allow('context_headers_absent_when_not_sent', R('GET', '/data', A(bare)), bare, { headers_absent: ['x-trace-id', 'x-context-id', 'x-agent-name'] }),
    allow('client_spoofed_claim_header_replaced', R('GET', '/data', A(full, { 'x-user-id': 'evil', 'x-tenant-id': 'evil' })), full, { headers: { 'x-user-id': 'user-7', 'x-tenant-id': 'acme' } }),
    allow('client_spoofed_header_not_injected_when_claim_missing', R('GET', '/data', A(bare, { 'x-tenant-id': 'evil', 'x-jwt-payload': 'evil' })), bare, { headers: { 'x-jwt-payload': parts(bare)[1] }, headers_absent: ['x-tenant-id'] }),
    allow('disabled_route_injects_context_only', R('GET', '/public', CTX), null, { headers: CTX, headers_absent: ['x-user-id', 'x-jwt-payload'], audit: { route: '/public', trace_id: 'trace-abc' } }),
    deny('deny_injects_nothing', R('GET', '/data', A(expired, CTX)), 'token_expired', { headers_absent: ALL_INJECTED, audit: { trace_id: 'trace-abc' } }),
    deny('token_missing_injects_nothing', R('GET', '/data', CTX), 'token_missing', { headers_absent: ALL_INJECTED, audit: { trace_id: 'trace-abc' } }),
  ]);
}

// ===============================================================================================================
// request_audit.json: audit members, EdDSA tokens, custom context header names
// ===============================================================================================================
{
  const full = await ed(claims({ sub: 'u-audit', client_id: 'cli-9', jti: 'jti-audit-1', scope: 'tools:read tools:execute' }));
  const arr = await ed(claims({ sub: 'u-arr', aud: ['api', 'web'], jti: 'jti-audit-2' }));
  const readOnly = await ed(claims({ sub: 'u-ro', scope: 'tools:read', client_id: 'cli-2' }));
  const noJti = await ed(claims({ sub: 'u-nojti', jti: undefined, client_id: 'cli-3', scope: 'tools:admin tools:read' }));
  const CUSTOM = { trace_id: 'x-request-id', context_id: 'x-ctx', agent_name: 'x-agent' };
  const TOOLS = { route: '/tools', scopes_required: ['tools:read', 'tools:execute', 'tools:admin'] };
  const A = (t, h = {}) => ({ authorization: B(t), ...h });
  file('request_audit.json', 'Audit record members (time, trace_id, decision, code, status, sub, client_id, iss, aud as given, route, scopes_required, jti) with EdDSA tokens and custom context header names.', {
    security: SECURITY,
    keys: ED_KEYS,
    context_headers: CUSTOM,
    routes: [
      { path_prefix: '/tools', scopes: { all_of: ['tools:read'], any_of: ['tools:execute', 'tools:admin'] } },
      { path: '/health', auth_mode: 'disabled' },
      { path_prefix: '/opt', auth_mode: 'optional' },
    ],
  }, [
    allow('allow_full_record', R('GET', '/data', A(full, { 'x-request-id': 'tr-1' })), full, {
      audit: { time: NOW, trace_id: 'tr-1', decision: 'allow', status: 200, sub: 'u-audit', client_id: 'cli-9', iss: ISS, aud: 'api', jti: 'jti-audit-1' },
    }),
    allow('aud_array_stays_array', R('GET', '/data', A(arr)), arr, { audit: { aud: ['api', 'web'], jti: 'jti-audit-2' } }),
    allow('route_and_scopes_required', R('POST', '/tools/call', A(full)), full, { audit: TOOLS }),
    allow('route_any_of_second_alternative', R('POST', '/tools/call', A(noJti)), noJti, { audit: { ...TOOLS, client_id: 'cli-3' } }),
    deny('insufficient_scope_record', R('POST', '/tools/call', A(readOnly, { 'x-request-id': 'tr-2' })), 'insufficient_scope', {
      scope: 'tools:read tools:execute tools:admin', audit: { ...TOOLS, trace_id: 'tr-2' },
    }),
    deny('insufficient_scope_error_description_after_scope', R('POST', '/tools/call', A(arr)), 'insufficient_scope', {
      scope: 'tools:read tools:execute tools:admin', www: 'scope="tools:read tools:execute tools:admin", error_description="', audit: TOOLS,
    }),
    deny('token_missing_record', R('GET', '/data', { 'x-request-id': 'tr-3' }), 'token_missing', { audit: { trace_id: 'tr-3' } }),
    deny('token_missing_on_scoped_route_record', R('GET', '/tools'), 'token_missing', { audit: TOOLS }),
    allow('custom_trace_header_only', R('GET', '/data', A(full, { 'x-trace-id': 'ignored', 'x-request-id': 'tr-9' })), full, {
      headers: { 'x-request-id': 'tr-9' }, headers_absent: ['x-trace-id'], audit: { trace_id: 'tr-9' },
    }),
    allow('custom_context_headers_injected', R('GET', '/data', A(full, { 'x-ctx': 'ctx-77', 'x-agent': 'planner', 'x-context-id': 'no', 'x-agent-name': 'no' })), full, {
      headers: { 'x-ctx': 'ctx-77', 'x-agent': 'planner' }, headers_absent: ['x-context-id', 'x-agent-name'],
    }),
    allow('disabled_route_record', R('GET', '/health', { 'x-request-id': 'tr-h' }), null, { audit: { route: '/health', trace_id: 'tr-h' } }),
    allow('anonymous_optional_record', R('GET', '/opt/page'), null, { audit: { route: '/opt' } }),
    allow('mcp_header_eddsa', R('GET', '/opt/page', { 'x-mcp-proxy-auth': full }), full, { audit: { route: '/opt', sub: 'u-audit' } }),
    deny('invalid_request_record', R('GET', '/data', { authorization: 'Bearer', 'x-request-id': 'tr-4' }), 'invalid_request', { audit: { trace_id: 'tr-4' } }),
    deny('signature_invalid_record', R('GET', '/data', A(tamperSig(full))), 'signature_invalid'),
    deny('hs256_token_not_accepted', R('GET', '/data', A(await hs(claims()))), 'algorithm_not_allowed'),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Write
// ---------------------------------------------------------------------------------------------------------------
for (const f of readdirSync(vectorsDir)) if (/^request_.*\.json$/.test(f)) unlinkSync(join(vectorsDir, f));
let total = 0;
let policyFiles = 0;
const seen = new Set();
for (const [name, f] of files) {
  if (!/^request_.*\.json$/.test(name)) throw new Error(`bad file name ${name}`);
  if (seen.has(name)) throw new Error(`duplicate file ${name}`);
  seen.add(name);
  if (f.cases) {
    const names = new Set();
    for (const c of f.cases) {
      if (names.has(c.name)) throw new Error(`${name}: duplicate case ${c.name}`);
      names.add(c.name);
    }
    total += f.cases.length;
    console.log(`${name.padEnd(40)} ${f.cases.length}`);
  } else {
    policyFiles += 1;
  }
  writeFileSync(join(vectorsDir, name), `${JSON.stringify(f, null, 2)}\n`);
}
console.log(`${files.length} request files: ${total} request cases, ${policyFiles} policy files`);
