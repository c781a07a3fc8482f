/**
 * ccxt's Kraken signing with node:crypto primitives gives the same bytes as ccxt's own JavaScript ones and as
 * the simulator's independent implementation of Kraken's API-Sign.
 */
import { randomBytes } from 'node:crypto';
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { krakenSignature } from '../../sim/auth.ts';
import { nodeCrypto } from './signing.ts';

type Signed = { url: string; body: string; headers: Record<string, string> };
type Signer = { sign(path: string, api: string, method: string, params: Record<string, unknown>): Signed; nonce: () => number; hmac: (...a: unknown[]) => unknown; hash: (...a: unknown[]) => unknown };

function exchange(secret: string, patched: boolean): Signer {
  const ex = new ccxt.kraken({ apiKey: 'key-' + 'k'.repeat(40), secret }) as unknown as Signer;
  let n = 1_700_000_000_000;
  ex.nonce = () => ++n;
  if (patched) nodeCrypto(ex);
  return ex;
}

describe('Kraken request signing through node:crypto', () => {
  it('when a private call is signed then the body and API-Sign equal ccxt’s own and Kraken’s formula', () => {
    for (let k = 0; k < 20; k++) {
      const secret = randomBytes(64).toString('base64');
      const theirs = exchange(secret, false);
      const ours = exchange(secret, true);
      const params = k % 2 ? { pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', volume: `0.0${k + 1}`, cl_ord_id: `tg-${k}`, price: '3512.5' } : { asset: 'ZUSD' };
      const path = k % 2 ? 'AddOrder' : 'BalanceEx';
      const a = theirs.sign(path, 'private', 'POST', params);
      const b = ours.sign(path, 'private', 'POST', params);
      expect(b).toEqual(a);
      const nonce = new URLSearchParams(b.body).get('nonce')!;
      expect(b.headers['API-Sign']).toBe(krakenSignature(`/0/private/${path}`, nonce, b.body, secret));
    }
  });

  it('when the secret changes then the new one signs (the decoded secret is not kept past it)', () => {
    const ex = exchange(randomBytes(64).toString('base64'), true) as Signer & { secret: string };
    ex.sign('Balance', 'private', 'POST', {});
    const next = randomBytes(64).toString('base64');
    ex.secret = next;
    const b = ex.sign('Balance', 'private', 'POST', {});
    expect(b.headers['API-Sign']).toBe(krakenSignature('/0/private/Balance', new URLSearchParams(b.body).get('nonce')!, b.body, next));
  });

  it('when ccxt asks for another hash then its own implementation answers', () => {
    const ours = exchange(randomBytes(64).toString('base64'), true);
    const theirs = exchange(randomBytes(64).toString('base64'), false);
    // a hash that is neither SHA-256 nor SHA-512 (here: the first 8 bytes of nothing in particular)
    const other = (d: Uint8Array) => new Uint8Array(8).map((_, i) => (d[i] ?? 0) ^ 0x5a);
    expect(ours.hash('abc', other, 'hex')).toEqual(theirs.hash('abc', other, 'hex'));
  });
});
