/**
 * One choice of state adapter for every command that takes `--state`: a `postgres://…` (or `postgresql://…`) URL
 * opens the PostgreSQL state, anything else is a SQLite file. Both offer the same surface (StateStoreSurface);
 * what only one of them has (SQLite's file backup, integrity check and pragmas; PostgreSQL's status) is reached
 * by narrowing on `kind`. Errors stay StateDbError (the caller turns them into its own message); a URL is only
 * ever shown without its password (`shownPlace`).
 */
import { isPostgresUrl, redactUrl } from './postgres/errors.ts';
import { PgStateStore } from './postgres/state-store.ts';
import { SqliteStateStore } from './sqlite/state-store.ts';

export type OpenedState = SqliteStateStore | PgStateStore;

export interface StateOpenOptions {
  /** refuse a state that does not exist yet (read commands: a mistyped name is an error, not a new empty ledger) */
  readonly mustExist?: boolean;
}

/** Opens the state at `place` (a SQLite file or a PostgreSQL URL), creating and migrating it unless `mustExist`. */
export function openStateStore(place: string, o: StateOpenOptions = {}): OpenedState {
  return isPostgresUrl(place) ? PgStateStore.open(place, o) : SqliteStateStore.open(place, o);
}

export const isPgState = (s: OpenedState): s is PgStateStore => s instanceof PgStateStore;

/** the state's place as messages, logs and files may show it: a file name, or the URL without its password */
export const shownPlace = (place: string): string => (isPostgresUrl(place) ? redactUrl(place) : place);

/**
 * What `tollgate db status` prints: SQLite's health (journal, sync mode, integrity check, size) or PostgreSQL's
 * status (schema version and counts; PostgreSQL keeps its own integrity, so `integrity` is 'ok' there).
 */
export function stateStatus(s: OpenedState): Record<string, string | number> & { integrity: string; schemaVersion: number; latestVersion: number } {
  return isPgState(s) ? { ...s.status(), integrity: 'ok' } : { ...s.health() };
}
