/**
 * The webhook intake's rows: an accepted alert is written before its 202 reply, then handed to the bus once
 * (src/http/intake.ts); the SQLite state implements the store (src/adapters/sqlite/state-store.ts).
 */

/** One accepted alert as stored. */
export interface IntakeRow {
  readonly signalId: string;
  /** what makes a repeat a repeat: the body's id, else a hash of source and body */
  readonly dedupKey: string;
  readonly bodyHash: string;
  readonly source: string;
  readonly receivedTs: number;
  /** the signal as JSON */
  readonly signal: string;
  /** the first answer as JSON (a repeated delivery gets it again) */
  readonly reply: string;
  /** accepted (written, not yet on the bus) or submitted */
  readonly status: 'accepted' | 'submitted';
  readonly state: string | null;
  readonly decision: string | null;
  /** JSON array of block codes */
  readonly blockedBy: string | null;
  readonly detail: string | null;
  readonly updatedTs: number;
}
