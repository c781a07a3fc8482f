/**
 * One trader per Kraken account: instances sharing a PostgreSQL state take a session-level advisory lock
 * (pg_try_advisory_lock) keyed by the account, on a connection of their own that is held for as long as the
 * instance trades. The holder trades; the others stand by and try again every `retryMs`; when the holder's
 * session ends (the process exits or is killed, its connection drops) PostgreSQL releases the lock and the next
 * try takes it. No home-made consensus: the database's lock is the lease.
 *
 * The key is derived from the account's name (a configured name, or the API key id): a hash, never the secret,
 * and the name itself is not stored in the database either. A holder that loses its connection has lost the
 * lease (another may hold it a moment later): `onLost` says so at once, and the caller stops trading.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { redactUrl } from './errors.ts';

/** 'Toll': the advisory lock class of Tollgate's leases (the two-int form; the writers' lock uses the one-bigint form) */
export const LEASE_CLASS = 0x546f6c6c;

/** the lease's lock id for an account: 31 bits of SHA-256 of its name */
export function leaseKey(account: string): number {
  return createHash('sha256').update(`tollgate-lease\u0000${account}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/** The lease cannot be tried at all (PostgreSQL unreachable at the first try); the message names the place, never the password. */
export class LeaseError extends Error {
  override name = 'LeaseError';
}

export type LeaseRole = 'standby' | 'leader' | 'lost' | 'released';

export interface LeaseStatus {
  readonly role: LeaseRole;
  /** what the lease is for, as it may be shown: the configured name, or `key #<lock id>` */
  readonly account: string;
  /** who holds it while this instance stands by (PostgreSQL's application_name of the holder's session), when known */
  readonly holder: string | null;
  /** why not leader, in words */
  readonly reason: string | null;
  /** epoch ms of the last role change */
  readonly since: number;
}

export interface LeaseOptions {
  readonly url: string;
  /** the account the lease is for: its configured name, or the API key id (hashed, never shown) */
  readonly account: string;
  /** shown instead of the account (e.g. the configured name); default `key #<lock id>` */
  readonly label?: string;
  readonly now: () => number;
  /** how often a standby tries again (default 1 s) */
  readonly retryMs?: number;
  /** how often the holder checks its lease connection (default 2 s) */
  readonly checkMs?: number;
}

export class PgLease {
  private client: pg.Client | null = null;
  private st: LeaseStatus;
  private readonly key: number;
  private check: NodeJS.Timeout | null = null;
  private lostHandlers: Array<(reason: string) => void> = [];
  private readonly where: string;
  private unreachable = false;

  constructor(private readonly o: LeaseOptions) {
    this.key = leaseKey(o.account);
    this.where = redactUrl(o.url);
    this.st = { role: 'standby', account: o.label ?? `key #${this.key}`, holder: null, reason: 'not yet tried', since: o.now() };
  }

  status(): LeaseStatus {
    return this.st;
  }

  private set(role: LeaseRole, reason: string | null, holder: string | null = null): void {
    if (role !== this.st.role || reason !== this.st.reason || holder !== this.st.holder) {
      this.st = { ...this.st, role, reason, holder, since: role !== this.st.role ? this.o.now() : this.st.since };
    }
  }

  /**
   * Tries to take the lease every `retryMs` until it is held (true) or `stop()` says to give up (false).
   * `onStandby` hears each failed try (another holds it, or PostgreSQL cannot be reached). With `failFast`,
   * a first try that cannot reach PostgreSQL at all (down, wrong URL, refused login) throws a LeaseError
   * instead: a start with a mistyped URL is an error, not a standby forever; later outages are retried.
   */
  async acquire(stop: () => boolean, onStandby?: (s: LeaseStatus) => void, o: { failFast?: boolean } = {}): Promise<boolean> {
    for (let first = true; ; first = false) {
      if (stop()) return false;
      if (await this.tryOnce()) return true;
      if (first && o.failFast && this.unreachable) throw new LeaseError(this.st.reason!.replace(/; retrying$/, ''));
      onStandby?.(this.st);
      const until = this.o.now() + (this.o.retryMs ?? 1000);
      while (this.o.now() < until && !stop()) await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - this.o.now()))));
    }
  }

  private async tryOnce(): Promise<boolean> {
    this.unreachable = false;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.o.url, application_name: `tollgate lease: pid ${process.pid} on ${hostname()}`, keepAlive: true });
        c.on('error', () => {}); // a broken lease connection is handled by the check below
        await c.connect();
        this.client = c;
      }
      const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LEASE_CLASS, this.key]);
      if (r.rows[0]?.ok) {
        this.set('leader', null);
        this.watch();
        return true;
      }
      const h = await this.client.query<{ app: string | null; pid: number }>(`SELECT a.application_name AS app, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.granted LIMIT 1`, [LEASE_CLASS, this.key]);
      const holder = h.rows[0] ? (h.rows[0].app || `backend pid ${h.rows[0].pid}`) : null;
      this.set('standby', `another instance holds the lease of account ${this.st.account}${holder ? ` (${holder})` : ''}; standing by`, holder);
    } catch (e) {
      this.unreachable = true;
      await this.drop();
      this.set('standby', `cannot reach PostgreSQL at ${this.where} for the lease (${(e as Error).message}); retrying`);
    }
    return false;
  }

  /** the holder checks its lease connection: a failure is a lost lease */
  private watch(): void {
    const c = this.client!;
    const lost = (why: string) => {
      if (this.st.role !== 'leader') return;
      this.set('lost', `the lease connection to PostgreSQL broke (${why}): another instance may take over; this one stops trading`);
      if (this.check) clearInterval(this.check);
      this.check = null;
      void this.drop();
      for (const h of this.lostHandlers) h(this.st.reason!);
    };
    c.on('error', (e) => lost(e.message));
    c.on('end', () => lost('connection closed'));
    this.check = setInterval(() => {
      c.query('SELECT 1').catch((e: Error) => lost(e.message));
    }, this.o.checkMs ?? 2000);
    this.check.unref();
  }

  onLost(handler: (reason: string) => void): void {
    this.lostHandlers.push(handler);
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => {});
  }

  /** Gives the lease up (ends the session, which releases the lock). */
  async release(): Promise<void> {
    if (this.check) clearInterval(this.check);
    this.check = null;
    const was = this.st.role;
    this.lostHandlers = [];
    this.set('released', 'released');
    if (was === 'leader') await this.client?.query('SELECT pg_advisory_unlock($1, $2)', [LEASE_CLASS, this.key]).catch(() => {});
    await this.drop();
  }
}
