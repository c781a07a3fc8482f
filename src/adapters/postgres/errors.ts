/**
 * PostgreSQL errors as the state's StateDbError (the same problems the SQLite state names), and the URL as it
 * may be shown: never with its password.
 */
import { StateDbError } from '../sqlite/errors.ts';
import { PgCallError } from './sync-bridge.ts';

export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/** `postgres://user:***@host:port/db`: what messages, logs and /health may say about the state's place. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/** Maps a PostgreSQL failure to a StateDbError naming the problem; anything else is returned unchanged. */
export function classifyPgError(e: unknown, where: string): unknown {
  if (e instanceof StateDbError || !(e instanceof PgCallError)) return e;
  const code = e.code ?? '';
  const msg = e.message;
  if (code === 'TIMEOUT' || code === '55P03' || code === '40P01' || code === '40001') {
    return new StateDbError('busy', where, `PostgreSQL: ${msg}: another writer held the state longer than the lock timeout; nothing was changed, try again`);
  }
  if (code === '53100') return new StateDbError('full', where, `PostgreSQL: the disk is full (${msg}); nothing was changed`);
  if (code === '25006' || code === '42501') return new StateDbError('readonly', where, `PostgreSQL refuses the write (${msg}); nothing was changed`);
  if (code === '3D000') return new StateDbError('missing', where, `no such PostgreSQL database (${msg}); create it (createdb) first`);
  if (code === 'CLOSED' || code.startsWith('08') || code.startsWith('57P') || code.startsWith('28') || /^E[A-Z]+$/.test(code)) {
    return new StateDbError('io', where, `cannot reach PostgreSQL (${msg}); nothing was changed`);
  }
  return e;
}
