// Signature checks in WebCrypto (crypto.subtle, asynchronous). Used by the browser, Deno and
// workerd entries for verifyAsync / authorizeAsync.

const HASH = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };

function params(alg) {
  const family = alg.slice(0, 2);
  const bits = alg.slice(2);
  switch (family) {
    case 'HS':
      return { imp: { name: 'HMAC', hash: HASH[bits] }, ver: { name: 'HMAC' } };
    case 'RS':
      return { imp: { name: 'RSASSA-PKCS1-v1_5', hash: HASH[bits] }, ver: { name: 'RSASSA-PKCS1-v1_5' } };
    case 'PS':
      return { imp: { name: 'RSA-PSS', hash: HASH[bits] }, ver: { name: 'RSA-PSS', saltLength: Number(bits) / 8 } };
    case 'ES':
      return { imp: null, ver: { name: 'ECDSA', hash: HASH[bits] } };
    case 'Ed':
      return { imp: { name: 'Ed25519' }, ver: { name: 'Ed25519' } };
    default:
      return undefined;
  }
}

function b64u(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function importKey(key) {
  const p = params(key.alg);
  if (!p) return undefined;
  const subtle = globalThis.crypto.subtle;
  let cryptoKey;
  switch (key.kty) {
    case 'oct':
      cryptoKey = await subtle.importKey('raw', key.secret, p.imp, false, ['verify']);
      break;
    case 'RSA':
      cryptoKey = await subtle.importKey('jwk', { kty: 'RSA', n: b64u(key.n), e: b64u(key.e) }, p.imp, false, [
        'verify',
      ]);
      break;
    case 'EC':
      cryptoKey = await subtle.importKey('raw', key.point, { name: 'ECDSA', namedCurve: key.crv }, false, ['verify']);
      break;
    case 'OKP':
      cryptoKey = await subtle.importKey('raw', key.x, p.imp, false, ['verify']);
      break;
    default:
      return undefined;
  }
  return { cryptoKey, ver: p.ver };
}

async function verify(_alg, key, data, signature) {
  try {
    return await globalThis.crypto.subtle.verify(key.ver, key.cryptoKey, signature, data);
  } catch {
    return false;
  }
}

/** The WebCrypto provider: `importKey` and `verify` return promises. */
export const webCrypto = Object.freeze({ name: 'webcrypto', sync: false, delegate: 1 | 2 | 4 | 8, importKey, verify });
