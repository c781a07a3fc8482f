import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { classifyVenueError, redact } from './errors.ts';
import { NonceSource } from './nonce.ts';

const k = (cls: new (m: string) => Error, body: string) => new cls(`kraken {"error":["${body}"]}`);

describe('venue errors are classified at the boundary', () => {
  it.each([
    [k(ccxt.InsufficientFunds, 'EOrder:Insufficient funds'), 'rejected', 'EOrder:Insufficient funds'],
    [k(ccxt.InvalidOrder, 'EOrder:Order minimum not met'), 'rejected', 'EOrder:Order minimum not met'],
    [k(ccxt.BadRequest, 'EGeneral:Invalid arguments'), 'rejected', 'EGeneral:Invalid arguments'],
    [k(ccxt.InvalidNonce, 'EAPI:Invalid nonce'), 'retryable', 'EAPI:Invalid nonce'],
    [k(ccxt.DDoSProtection, 'EAPI:Rate limit exceeded'), 'retryable', 'EAPI:Rate limit exceeded'],
    [k(ccxt.ExchangeError, 'EService:Throttled:1700000000'), 'retryable', 'EService:Throttled:1700000000'], // unmapped by ccxt
    [k(ccxt.ExchangeError, 'EService:Deadline elapsed'), 'retryable', 'EService:Deadline elapsed'], // unmapped by ccxt
    [k(ccxt.OnMaintenance, 'EService:Market in cancel_only mode'), 'retryable', 'EService:Market in cancel_only mode'],
    [k(ccxt.ExchangeNotAvailable, 'EService:Unavailable'), 'ambiguous', 'EService:Unavailable'],
    [k(ccxt.ExchangeNotAvailable, 'EGeneral:Internal error'), 'ambiguous', 'EGeneral:Internal error'],
    [new ccxt.RequestTimeout('kraken POST http://127.0.0.1/0/private/AddOrder request timed out (10000 ms)'), 'ambiguous', 'RequestTimeout'],
    [new ccxt.NetworkError('socket hang up'), 'ambiguous', 'NetworkError'],
    [k(ccxt.AuthenticationError, 'EAPI:Invalid key'), 'fatal', 'EAPI:Invalid key'],
    [k(ccxt.ExchangeError, 'EAPI:Invalid signature'), 'fatal', 'EAPI:Invalid signature'], // unmapped by ccxt
    [k(ccxt.PermissionDenied, 'EGeneral:Permission denied'), 'fatal', 'EGeneral:Permission denied'],
    [k(ccxt.ExchangeError, 'EOrder:Orders limit exceeded'), 'rejected', 'EOrder:Orders limit exceeded'], // unmapped by ccxt
    [k(ccxt.InvalidOrder, 'EOrder:Unknown order'), 'not_found', 'EOrder:Unknown order'],
    [new ccxt.ExchangeError('kraken something new'), 'ambiguous', 'ExchangeError'],
    [new Error('ECONNRESET'), 'ambiguous', 'Error'],
  ])('%s → %s', (e, kind, code) => {
    const c = classifyVenueError(e);
    expect(c.kind).toBe(kind);
    expect(c.code).toBe(code);
  });

  it('never lets a secret through in the message', () => {
    const secret = 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==';
    const c = classifyVenueError(new ccxt.ExchangeError(`kraken failed with ${secret} inside`), [secret]);
    expect(c.message).not.toContain(secret);
    expect(c.message).toContain('[redacted]');
    expect(redact('abc', ['abcdef'])).toBe('abc');
  });
});

describe('nonces', () => {
  it('strictly increase even when the clock stands still or goes back', () => {
    let t = 1_000;
    const clock = { now: () => t, set: (v: number) => (t = v) };
    const n = new NonceSource(clock);
    const seen = Array.from({ length: 200 }, () => n.next());
    clock.set(500);
    seen.push(n.next());
    clock.set(5_000);
    seen.push(n.next());
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(seen.at(-1)).toBe(5_000);
    expect(new NonceSource(clock, 9_999).next()).toBe(10_000); // resumes above a persisted nonce
  });

  it('each nonce is handed to the persister before it is used', () => {
    const kept: number[] = [];
    const n = new NonceSource({ now: () => 5 }, 100, (x) => kept.push(x));
    expect([n.next(), n.next()]).toEqual([101, 102]);
    expect(kept).toEqual([101, 102]);
  });
});
