/** The Store port in memory: a Map. State kept here lives as long as the process. */
import type { KeyValueStore } from '../../ports/store.ts';

export class InMemoryStore<T> implements KeyValueStore<T> {
  private readonly map = new Map<string, T>();
  get(key: string): T | undefined {
    return this.map.get(key);
  }
  set(key: string, value: T): void {
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  values(): IterableIterator<T> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}
