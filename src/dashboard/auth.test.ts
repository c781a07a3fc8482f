import { describe, expect, it } from 'vitest';
import { ManualClock } from '../adapters/clock/clocks.ts';
import { hashPassword, LoginBackoff, parseCookies, sameOrigin, SCRYPT_PARAMS, Sessions, Verifier, verifyPassword } from './auth.ts';

describe('password hash', () => {
  it('when hashed with the OWASP parameters (128 MiB, above Node’s default maxmem) then the right password verifies and a wrong one does not', async () => {
    const h = await hashPassword('pässword');
    expect(h).toMatch(new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$8\\$1\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$`));
    expect(h).not.toContain('pässword');
    expect(await verifyPassword('pässword', h)).toBe(true);
    expect(await verifyPassword('password', h)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
  it('when many logins arrive at once then they queue one at a time and past the limit are turned away', async () => {
    const h = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const v = new Verifier(h, 2);
    const a = v.verify('pw');
    const b = v.verify('no');
    expect(v.verify('pw')).toBeNull();
    expect(await a).toBe(true);
    expect(await b).toBe(false);
    expect(await v.verify('pw')).toBe(true);
  });
});

describe('login backoff', () => {
  it('when a client fails then its wait doubles up to the cap, is per client, and ends with a success or after the forget period', () => {
    const clock = new ManualClock(0);
    const b = new LoginBackoff(clock, { baseMs: 1000, maxMs: 8000, forgetMs: 60_000 });
    expect(b.waitMs('a')).toBe(0);
    for (const expected of [1000, 2000, 4000, 8000, 8000]) {
      b.failed('a');
      expect(b.waitMs('a')).toBe(expected);
    }
    expect(b.waitMs('b')).toBe(0);
    clock.advance(8000);
    expect(b.waitMs('a')).toBe(0);
    b.succeeded('a');
    b.failed('a');
    expect(b.waitMs('a')).toBe(1000);
    clock.advance(61_000);
    expect(b.waitMs('a')).toBe(0);
  });
});

describe('sessions', () => {
  it('when created then each has its own id and token, and it expires when idle or past its absolute lifetime', () => {
    const clock = new ManualClock(0);
    const s = new Sessions(clock, { idleMs: 1000, absoluteMs: 3000 });
    const a = s.create();
    const b = s.create();
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    for (let i = 0; i < 3; i++) {
      clock.advance(900);
      expect(s.touch(a.id)).toBe(a);
    }
    expect(s.touch(b.id)).toBeNull(); // idle 2700 ms
    clock.advance(900);
    expect(s.touch(a.id)).toBeNull(); // 3600 ms old, though never idle
  });
});

describe('origin check', () => {
  it('when the request is same-origin or carries neither header then it passes; cross-site, other origins and null do not', () => {
    expect(sameOrigin({ host: 'h:1', origin: 'http://h:1', 'sec-fetch-site': 'same-origin' }, 'http').ok).toBe(true);
    expect(sameOrigin({ host: 'h:1' }, 'http').ok).toBe(true);
    expect(sameOrigin({ host: 'h:1', 'sec-fetch-site': 'same-site' }, 'http').ok).toBe(false);
    expect(sameOrigin({ host: 'h:1', origin: 'https://h:1' }, 'http').ok).toBe(false);
    expect(sameOrigin({ host: 'h:1', origin: 'null' }, 'http').ok).toBe(false);
  });
  it('parses cookies, the first of a repeated name winning', () => {
    expect(parseCookies('a=1; b=x%3Dy; a=2')).toEqual({ a: '1', b: 'x=y' });
  });
});
