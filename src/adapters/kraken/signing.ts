/**
 * ccxt signs Kraken's private calls itself (`sign`: nonce, form body, `API-Sign` headers); this only swaps the
 * primitives it calls for Node's: ccxt's HMAC-SHA512 and SHA-256 are pure JavaScript (about 80 µs of a
 * 120 µs `sign` here, on the event loop before every private call goes out, an AddOrder's included), and
 * it decodes the base64 secret again on every call. Node's `node:crypto` gives the same bytes in a few µs.
 *
 * ccxt passes its hash as a function (noble's `sha512`, `sha256`); which one it is is learnt once per
 * function from its digest of the empty input. Anything else (another hash, another digest) goes to
 * ccxt's own implementation unchanged.
 */
import { createHash, createHmac } from 'node:crypto';

type Bytes = string | Uint8Array;
type HashFn = (data: Uint8Array) => Uint8Array;
type Digest = 'hex' | 'base64' | 'binary';

interface CcxtCrypto {
  hash(request: Bytes, hash: HashFn, digest?: string): unknown;
  hmac(request: Bytes, secret: Bytes, hash: HashFn, digest?: string): unknown;
  base64ToBinary(s: string): Uint8Array;
}

const EMPTY_DIGEST: Record<string, 'sha256' | 'sha512'> = {
  [createHash('sha256').update('').digest('hex')]: 'sha256',
  [createHash('sha512').update('').digest('hex')]: 'sha512',
};

const known = new WeakMap<HashFn, 'sha256' | 'sha512' | null>();

/** Node's name for ccxt's hash function, or null when it is neither SHA-256 nor SHA-512. */
function algorithmOf(hash: HashFn): 'sha256' | 'sha512' | null {
  let alg = known.get(hash);
  if (alg === undefined) {
    let out: Uint8Array | null = null;
    try {
      out = typeof hash === 'function' ? hash(new Uint8Array(0)) : null;
    } catch {
      out = null;
    }
    alg = out instanceof Uint8Array ? EMPTY_DIGEST[Buffer.from(out).toString('hex')] ?? null : null;
    known.set(hash, alg);
  }
  return alg;
}

const bytes = (x: Bytes): Uint8Array => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x);
const isDigest = (d: string): d is Digest => d === 'hex' || d === 'base64' || d === 'binary';
/** ccxt's 'binary' digest is a Uint8Array; its others are strings */
const out = (h: { digest(): Buffer; digest(enc: 'hex' | 'base64'): string }, d: Digest): Uint8Array | string =>
  d === 'binary' ? new Uint8Array(h.digest()) : h.digest(d);

/** ccxt's hash, hmac and base64 secret decoding on `exchange` through node:crypto (same results). */
export function nodeCrypto(exchange: object): void {
  const ex = exchange as CcxtCrypto;
  const hash = ex.hash.bind(exchange);
  const hmac = ex.hmac.bind(exchange);
  const base64ToBinary = ex.base64ToBinary.bind(exchange);
  ex.hash = (request, fn, digest = 'hex') => {
    const alg = algorithmOf(fn);
    return alg && isDigest(digest) ? out(createHash(alg).update(bytes(request)), digest) : hash(request, fn, digest);
  };
  ex.hmac = (request, secret, fn, digest = 'hex') => {
    const alg = algorithmOf(fn);
    return alg && isDigest(digest) ? out(createHmac(alg, bytes(secret)).update(bytes(request)), digest) : hmac(request, secret, fn, digest);
  };
  // the secret is decoded on every private call: the last one decoded is kept (a copy each time, so no caller can alter it)
  let lastText: string | null = null;
  let lastBytes: Uint8Array = new Uint8Array(0);
  ex.base64ToBinary = (s) => {
    if (s !== lastText) {
      lastBytes = base64ToBinary(s);
      lastText = s;
    }
    return lastBytes.slice();
  };
}
