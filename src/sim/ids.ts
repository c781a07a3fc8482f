/**
 * Kraken-style identifiers: order txids `OUF4EM-FRGI2-MQMWZD` (O + 5, 5, 6 characters), trade ids the same
 * shape starting with T. Derived from a seed and a counter (SHA-256) so a test run is reproducible.
 */
import { createHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class KrakenIds {
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly seed: number) {}

  /** 16 characters of the alphabet from the hash of (seed, counter) */
  private chars(): string {
    const h = createHash('sha256').update(`${this.seed}:${++this.counter}`).digest();
    let s = '';
    for (let i = 0; i < 16; i++) s += ALPHABET[h[i]! & 31];
    return s;
  }

  private make(prefix: 'O' | 'T'): string {
    for (;;) {
      const c = this.chars();
      const id = `${prefix}${c.slice(0, 5)}-${c.slice(5, 10)}-${c.slice(10, 16)}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  order(): string {
    return this.make('O');
  }

  trade(): string {
    return this.make('T');
  }
}

/** Kraken's txid shape, e.g. OUF4EM-FRGI2-MQMWZD */
export const TXID = /^[OT][A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}$/;
