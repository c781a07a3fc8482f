/** Why a state database cannot be used. The CLI prints the message and exits non-zero; nothing was written. */
export type StateDbProblem = 'corrupt' | 'foreign' | 'newer' | 'readonly' | 'busy' | 'full' | 'io' | 'missing';

export class StateDbError extends Error {
  constructor(readonly problem: StateDbProblem, readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'StateDbError';
  }
}

/** Maps SQLite's error codes to a StateDbError naming the problem; anything else is returned unchanged. */
export function classifySqliteError(e: unknown, file: string): unknown {
  if (e instanceof StateDbError) return e;
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return e;
  const msg = (e as Error).message;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StateDbError('corrupt', file, `the database file is corrupt (${msg}); nothing was changed. Restore it from a backup (tollgate db backup) or move it away to start a new one`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StateDbError('readonly', file, `cannot write the state database (${msg}): the file or its directory is read-only (SQLite also needs to create FILE-wal and FILE-shm next to it)`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StateDbError('busy', file, `the state database stayed locked by another process longer than the busy timeout (${msg}); nothing was changed, try again`);
  }
  if (code === 'SQLITE_FULL') return new StateDbError('full', file, `the disk is full (${msg}); nothing was changed`);
  if (code.startsWith('SQLITE_IOERR')) return new StateDbError('io', file, `disk I/O error (${msg}); nothing was changed`);
  return e;
}
