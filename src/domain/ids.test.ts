import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientOrderId, fnv1a64, signalId } from './ids.ts';

describe('fnv1a64', () => {
  it('when any text is hashed then the digits equal FNV-1a 64 computed in BigInt (the reference definition)', () => {
    const reference = (text: string): string => {
      let h = 0xcbf29ce484222325n;
      for (let i = 0; i < text.length; i++) {
        h ^= BigInt(text.charCodeAt(i));
        h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
      }
      return h.toString(16).padStart(16, '0');
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => fnv1a64(s) === reference(s)), { numRuns: 3000 });
    expect(fnv1a64('ema_cross-BTCUSD-1381093200|entry|0')).toBe(reference('ema_cross-BTCUSD-1381093200|entry|0'));
  });

  it('when hashing ASCII then it matches the published FNV-1a 64-bit test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it('when hashing any text then the result is 16 lowercase hex digits', () => {
    fc.assert(fc.property(fc.string(), (s) => /^[0-9a-f]{16}$/.test(fnv1a64(s))));
  });
});

describe('signalId', () => {
  it('when built then it is strategy-pair without slash-unix seconds', () => {
    expect(signalId('ema_cross', 'BTC/USD', 1_381_093_200_000)).toBe('ema_cross-BTCUSD-1381093200');
  });

  it('when the event time has sub-second ms then they are floored away', () => {
    expect(signalId('rsi', 'ETH/EUR', 1_700_000_000_999)).toBe('rsi-ETHEUR-1700000000');
  });

  it('when called twice with the same inputs then the id is the same (deterministic)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_]{1,12}$/), fc.constantFrom('BTC/USD', 'ETH/USD', 'SOL/USD'), fc.integer({ min: 0, max: 4_102_444_800_000 }), (s, p, t) =>
        signalId(s, p, t) === signalId(s, p, t),
      ),
    );
  });

  it('when the time moves to another second then the id changes', () => {
    expect(signalId('x', 'BTC/USD', 1_000)).not.toBe(signalId('x', 'BTC/USD', 2_000));
  });
});

describe('clientOrderId', () => {
  const sid = 'ema_cross-BTCUSD-1381093200';

  it('when built then it is "tg" + 16 hex = 18 ASCII chars (Kraken cl_ord_id limit)', () => {
    const id = clientOrderId(sid, 'entry');
    expect(id).toMatch(/^tg[0-9a-f]{16}$/);
    expect(id.length).toBe(18);
  });

  it('when any signal id (including long and non-ASCII ones) is used then the id has ≤ 18 printable ASCII chars', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'grapheme' }), fc.constantFrom<'entry' | 'exit'>('entry', 'exit'), fc.nat(1000), (s, purpose, attempt) => {
        const id = clientOrderId(s, purpose, attempt);
        return id.length <= 18 && /^[\x21-\x7e]+$/.test(id);
      }),
    );
  });

  it('when called twice with the same inputs then the id is the same (idempotent retries)', () => {
    expect(clientOrderId(sid, 'exit', 2)).toBe(clientOrderId(sid, 'exit', 2));
  });

  it('when attempt is omitted then it equals attempt 0', () => {
    expect(clientOrderId(sid, 'entry')).toBe(clientOrderId(sid, 'entry', 0));
  });

  it('when purpose or attempt differ then the ids differ', () => {
    const ids = [clientOrderId(sid, 'entry'), clientOrderId(sid, 'exit'), ...Array.from({ length: 20 }, (_, i) => clientOrderId(sid, 'exit', i + 1)), clientOrderId(sid, 'entry', 1)];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('when the signal ids of many candles of several strategies are used then no two client order ids collide', () => {
    const ids = new Set<string>();
    let n = 0;
    for (const strat of ['ema_cross', 'rsi_reversion', 'donchian_breakout']) {
      for (let h = 0; h < 2000; h++) {
        const s = signalId(strat, 'BTC/USD', 1_381_093_200_000 + h * 3_600_000);
        for (const p of ['entry', 'exit'] as const) {
          ids.add(clientOrderId(s, p));
          n++;
        }
      }
    }
    expect(ids.size).toBe(n);
  });
});
