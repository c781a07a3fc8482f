/**
 * The dashboard's login: an scrypt password hash (the password itself is not kept), server-side sessions
 * in memory (a restart logs everyone out), per-client backoff after failed logins (never a lockout) and the
 * CSRF rules every POST passes. Time comes from the injected clock.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';

/** OWASP's scrypt parameters (N=2^17, r=8, p=1): 128 MiB per hash, so Node's 32 MiB default maxmem is raised. */
export const SCRYPT_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LEN = 32;

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** memory scrypt needs is 128·N·r bytes; leave room for its bookkeeping */
const maxmemFor = (p: ScryptParams) => 128 * p.N * p.r * 2;

function scryptAsync(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LEN, { N: p.N, r: p.r, p: p.p, maxmem: maxmemFor(p) }, (e, key) => (e ? reject(e) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64): the only form in which the dashboard holds the password. */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = encoded.split('$');
  if (tag !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * One verification at a time (each takes 128 MiB and ~0.3 s of a core): a burst of logins queues instead of
 * exhausting memory; past `maxQueued` waiting the caller is told to come back later.
 */
export class Verifier {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  constructor(private readonly encoded: string, private readonly maxQueued = 8) {}
  verify(password: string): Promise<boolean> | null {
    if (this.waiting >= this.maxQueued) return null;
    this.waiting++;
    const run = this.tail.then(() => verifyPassword(password, this.encoded)).finally(() => this.waiting--);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

// ── backoff ────────────────────────────────────────────────────────────────────

export interface BackoffOptions {
  /** delay after the first failure; doubles with each further one */
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** a client's failures are forgotten after this long without one */
  readonly forgetMs?: number;
  readonly maxClients?: number;
}

/** Exponential delay between login attempts per client: attempts inside the delay are refused unchecked. */
export class LoginBackoff {
  private readonly byClient = new Map<string, { failures: number; lastFail: number }>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly forgetMs: number;
  private readonly maxClients: number;
  constructor(private readonly clock: Clock, o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 1000;
    this.maxMs = o.maxMs ?? 60_000;
    this.forgetMs = o.forgetMs ?? 15 * 60_000;
    this.maxClients = o.maxClients ?? 10_000;
  }
  /** ms the client must still wait (0: it may try now) */
  waitMs(client: string): number {
    const e = this.byClient.get(client);
    if (!e) return 0;
    const now = this.clock.now();
    if (now - e.lastFail > this.forgetMs) {
      this.byClient.delete(client);
      return 0;
    }
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** (e.failures - 1));
    return Math.max(0, e.lastFail + delay - now);
  }
  failed(client: string): void {
    const e = this.byClient.get(client);
    this.byClient.delete(client);
    if (this.byClient.size >= this.maxClients) this.byClient.delete(this.byClient.keys().next().value!);
    this.byClient.set(client, { failures: (e?.failures ?? 0) + 1, lastFail: this.clock.now() });
  }
  succeeded(client: string): void {
    this.byClient.delete(client);
  }
}

// ── sessions ───────────────────────────────────────────────────────────────────

export interface Session {
  readonly id: string;
  /** the CSRF token of this session: a hidden field or X-CSRF-Token header on every POST */
  readonly csrf: string;
  readonly createdTs: number;
  lastSeenTs: number;
}

export interface SessionOptions {
  readonly idleMs?: number;
  readonly absoluteMs?: number;
}

const token = () => randomBytes(32).toString('base64url');

export class Sessions {
  private readonly byId = new Map<string, Session>();
  readonly idleMs: number;
  readonly absoluteMs: number;
  constructor(private readonly clock: Clock, o: SessionOptions = {}) {
    this.idleMs = o.idleMs ?? 30 * 60_000;
    this.absoluteMs = o.absoluteMs ?? 12 * 3_600_000;
  }
  /** a new session with fresh id and token (login rotates: the caller ends any previous one) */
  create(): Session {
    const now = this.clock.now();
    const s: Session = { id: token(), csrf: token(), createdTs: now, lastSeenTs: now };
    this.byId.set(s.id, s);
    return s;
  }
  /** the live session of this id, its idle timer restarted; expired ones are ended */
  touch(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.byId.get(id);
    if (!s) return null;
    const now = this.clock.now();
    if (now - s.lastSeenTs > this.idleMs || now - s.createdTs > this.absoluteMs) {
      this.byId.delete(id);
      return null;
    }
    s.lastSeenTs = now;
    return s;
  }
  end(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }
  get size(): number {
    return this.byId.size;
  }
}

/** The login form's CSRF token: an HMAC of the pre-login cookie under a per-process key. */
export class LoginTokens {
  private readonly key = randomBytes(32);
  newNonce(): string {
    return token();
  }
  tokenFor(nonce: string): string {
    return createHmac('sha256', this.key).update(nonce).digest('base64url');
  }
  valid(nonce: string | undefined, given: string | undefined): boolean {
    return !!nonce && !!given && safeEqual(this.tokenFor(nonce), given);
  }
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The request-origin half of CSRF protection: a browser's cross-site POST carries `Sec-Fetch-Site` other than
 * same-origin, or an `Origin` that is not this host. Clients that send neither (curl, tests) still need the token.
 */
export function sameOrigin(headers: Record<string, string | string[] | undefined>, protocol: string): { ok: true } | { ok: false; why: string } {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin') return { ok: false, why: `Sec-Fetch-Site: ${site}` };
  const origin = headers['origin'];
  if (typeof origin === 'string') {
    const host = headers['host'];
    if (origin !== `${protocol}://${host}`) return { ok: false, why: `Origin ${origin} is not this site` };
  }
  return { ok: true };
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !(k in out)) out[k] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}
