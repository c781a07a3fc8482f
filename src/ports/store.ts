/**
 * The Store port: where state that must survive lives. The spine keeps it in memory; the durable
 * SQLite store (issue 4) implements the same interface.
 */
export interface KeyValueStore<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
  delete(key: string): void;
  values(): IterableIterator<T>;
  readonly size: number;
}

/** A signal's durable row: its lifecycle state and machine snapshot (what a restart restores). */
export interface SignalRecord {
  readonly id: string;
  readonly strategy: string;
  readonly pair: string;
  readonly side: string;
  /** lifecycle state name */
  readonly state: string;
  readonly terminal: boolean;
  /** the signal as JSON */
  readonly signal: string;
  /** the persisted lifecycle machine snapshot as JSON */
  readonly snapshot: string;
  /** the next timer deadline (ms), re-armed on recovery instead of restarted */
  readonly deadlineTs: number | null;
  readonly updatedTs: number;
}
