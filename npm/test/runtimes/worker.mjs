// The workerd test worker. GET /__suite runs the shared vectors inside workerd; any other
// request is decided by `authorizeAsync` (WebCrypto) under the policy of auth.json and answered
// the way a real worker would: the decision's status, WWW-Authenticate and JSON body on deny,
// 200 with the subject on allow.
import * as api from './tokenward.mjs';
import sets from './vectors.json';
import auth from './auth.json';
import { runAll } from './runtimes/report.mjs';

let verifier;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__suite') {
      const lines = [];
      if (api.runtime !== 'workerd') lines.push(`not ok - expected the workerd entry, got ${api.runtime}`);
      const failed = await runAll('workerd', api, sets, (l) => lines.push(l));
      return new Response(lines.join('\n'), { status: failed === 0 && api.runtime === 'workerd' ? 200 : 500 });
    }
    verifier ??= new api.Verifier(auth.policy, { env: auth.env ?? {} });
    const d = await verifier.authorizeAsync(request, { now: auth.now });
    if (!d.allowed) {
      const headers = { 'content-type': 'application/json' };
      if (d.wwwAuthenticate) headers['www-authenticate'] = d.wwwAuthenticate;
      return new Response(d.body, { status: d.status, headers });
    }
    return Response.json({ subject: d.subject ?? null, native: verifier[Symbol.for('tokenward.stats')].native });
  },
};
