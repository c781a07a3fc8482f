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
