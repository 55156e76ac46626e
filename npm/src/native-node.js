// Signature checks in node:crypto (synchronous). Used by the Node and Bun entries.
import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';

const b64u = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

function importKey(key) {
  switch (key.kty) {
    case 'oct':
      return createSecretKey(key.secret);
    case 'RSA':
      return createPublicKey({ key: { kty: 'RSA', n: b64u(key.n), e: b64u(key.e) }, format: 'jwk' });
    case 'EC': {
      const len = (key.point.length - 1) / 2;
      const x = key.point.subarray(1, 1 + len);
      const y = key.point.subarray(1 + len);
      return createPublicKey({ key: { kty: 'EC', crv: key.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' });
    }
    case 'OKP':
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(key.x) }, format: 'jwk' });
    default:
      return undefined;
  }
}

function verify(alg, key, data, signature) {
  try {
    const family = alg.slice(0, 2);
    const hash = `sha${alg.slice(2)}`;
    switch (family) {
      case 'HS': {
        const mac = createHmac(hash, key).update(data).digest();
        return mac.length === signature.length && timingSafeEqual(mac, signature);
      }
      case 'RS':
        return cryptoVerify(hash, data, key, signature);
      case 'PS':
        return cryptoVerify(
          hash,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          signature,
        );
      case 'ES':
        return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'Ed':
        return cryptoVerify(null, data, key, signature);
      default:
        return false;
    }
  } catch {
    // A signature node:crypto cannot even parse does not verify.
    return false;
  }
}

/**
 * The node:crypto provider: `importKey` and `verify` are synchronous. `delegate` (key-family
 * bits: 2 RSA, 4 EC, 8 Ed25519) leaves HMAC in wasm under `crypto: 'auto'`: for HS256 the
 * in-wasm MAC is faster than the round trip to node:crypto (npm/BENCHMARKS.md).
 */
export const nodeCrypto = Object.freeze({ name: 'node:crypto', sync: true, delegate: 2 | 4 | 8, importKey, verify });
