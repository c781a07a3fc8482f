/**
 * Durable intake: an accepted alert is written to the store (with the answer it gets) before the reply; after
 * the reply it enters the bus as a signal, the one path every signal takes. Its lifecycle state and verdict
 * are written back as they happen, so `GET /api/v1/signals/:id` reads them later. A repeated delivery (same id,
 * or same body within the window) finds the first row and gets the first answer: no second signal.
 *
 * After a crash, rows still `accepted` (written, never handed to the bus) are submitted at the next start,
 * unless the engine already knows the signal (restored in flight): every 202 is processed exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { Bot } from '../engine/bot.ts';
import type { Signal } from '../domain/types.ts';
import type { Logger } from '../ports/logger.ts';
import type { Alert, Source } from './webhook.ts';

import type { IntakeRow } from '../ports/intake.ts';
export type { IntakeRow } from '../ports/intake.ts';

export interface IntakeStore {
  intakeOnce(r: IntakeRow, sinceTs: number): { readonly inserted: boolean; readonly record: IntakeRow };
  intake(signalId: string): IntakeRow | undefined;
  pendingIntake(): IntakeRow[];
  recentIntake(limit: number): IntakeRow[];
  updateIntake(signalId: string, u: { status?: 'submitted'; state?: string; decision?: string; blockedBy?: readonly string[]; detail?: string | null }, ts: number): void;
}

export interface AcceptReply {
  readonly status: 'accepted';
  readonly signalId: string;
  readonly pair: string;
  readonly side: string;
  readonly receivedAt: number;
}

export type AcceptResult =
  | { readonly kind: 'accepted'; readonly reply: AcceptReply }
  | { readonly kind: 'repeated'; readonly reply: AcceptReply }
  | { readonly kind: 'conflict'; readonly signalId: string };

/** A webhook signal's view for the API. */
export interface IntakeView {
  readonly signalId: string;
  readonly source: string;
  readonly receivedTs: number;
  readonly status: string;
  readonly state: string | null;
  readonly decision: string | null;
  readonly blockedBy: readonly string[];
  readonly detail: string | null;
  readonly signal: unknown;
}

export function intakeView(r: IntakeRow): IntakeView {
  return {
    signalId: r.signalId, source: r.source, receivedTs: r.receivedTs, status: r.status, state: r.state, decision: r.decision,
    blockedBy: r.blockedBy ? (JSON.parse(r.blockedBy) as string[]) : [], detail: r.detail, signal: JSON.parse(r.signal) as unknown,
  };
}

export class Intake {
  /** ids of webhook signals whose lifecycle is still followed */
  private readonly followed = new Set<string>();
  private readonly queue: string[] = [];
  private draining = false;
  private attachedTo: unknown = null;
  /** called around each submit with the time the kernel took (decision latency), seconds */
  onSubmitted: ((seconds: number) => void) | null = null;

  constructor(
    private readonly store: IntakeStore,
    private readonly bot: Bot,
    private readonly wall: { now(): number },
    private readonly logger: Logger,
    private readonly dedupWindowMs: number,
  ) {}

  /** Writes the alert (or finds its first delivery); nothing reaches the bus here. */
  accept(alert: Alert, source: Source, dedup: { key: string; bodyHash: string; byId: boolean }): AcceptResult {
    return acceptAlert(this.store, this.wall.now(), this.dedupWindowMs, alert, source, dedup);
  }

  /**
   * External intake (another process writes the rows: `tollgate intake`, which keeps taking alerts while the
   * bot is deployed or restarted): queues every row still `accepted` that is not queued yet and hands them to
   * the bus. Called every few hundred ms; quiet when there is nothing new. Returns how many rows it queued.
   */
  poll(): number {
    if (!this.attach() || this.bot.stopping) return 0;
    const queued = new Set(this.queue);
    let n = 0;
    for (const r of this.store.pendingIntake()) {
      if (queued.has(r.signalId)) continue;
      this.queue.push(r.signalId);
      n++;
    }
    if (n) this.drain();
    return n;
  }

  /** Hands an accepted alert to the bus after the reply went out (in arrival order). */
  enqueue(signalId: string): void {
    this.queue.push(signalId);
    if (!this.draining) setImmediate(() => this.drain());
    this.draining = true;
  }

  /** Submits every row still `accepted` (a restart's recovery, or alerts taken while the bot was starting). */
  recover(): number {
    const pending = this.store.pendingIntake();
    for (const r of pending) this.queue.push(r.signalId);
    if (pending.length) {
      this.logger.info('webhook.recovering', { pending: pending.length }, `webhook intake: ${pending.length} accepted alert(s) not yet processed; submitting them`);
      this.drain();
    }
    return pending.length;
  }

  /** Follows the bot's bus (once its pipeline exists): lifecycle states and verdicts of webhook signals. */
  attach(): boolean {
    const parts = this.bot.pipeline;
    if (!parts) return false;
    if (this.attachedTo === parts.bus) return true;
    this.attachedTo = parts.bus;
    parts.bus.subscribe('transition', 'http.intake', (t) => {
      if (!this.followed.has(t.signalId)) return;
      this.store.updateIntake(t.signalId, { state: t.to, ...(t.detail !== undefined ? { detail: t.detail } : {}) }, this.wall.now());
      if (t.terminal) this.followed.delete(t.signalId);
    });
    parts.bus.subscribe('verdict', 'http.intake', (v) => {
      if (!this.followed.has(v.signal.id)) return;
      this.store.updateIntake(v.signal.id, { decision: v.decision.decision, blockedBy: v.decision.blockedBy }, this.wall.now());
    });
    return true;
  }

  private drain(): void {
    this.draining = false;
    if (!this.attach() || this.bot.stopping) return; // kept: submitted when the bot runs (recover)
    while (this.queue.length) {
      const id = this.queue.shift()!;
      const row = this.store.intake(id);
      if (!row || row.status !== 'accepted') continue;
      const parts = this.bot.pipeline!;
      if (row.state !== null || parts.registry.has(id)) {
        // the engine saw it before a crash (a lifecycle state was written, or it was restored in flight)
        this.store.updateIntake(id, { status: 'submitted' }, this.wall.now());
        continue;
      }
      const stored = JSON.parse(row.signal) as Signal;
      const t = this.bot.now();
      const signal: Signal = { id, strategy: stored.strategy, pair: stored.pair, side: stored.side, confidence: stored.confidence, price: stored.price, reason: stored.reason, source: 'webhook', tsEvent: t, tsInit: t };
      this.followed.add(id);
      const t0 = process.hrtime.bigint();
      try {
        this.bot.submitSignal(signal);
      } catch (e) {
        // the bot stopped between the check and now: the row stays accepted for the next start
        this.followed.delete(id);
        this.logger.warn('webhook.not_submitted', { signalId: id }, (e as Error).message);
        return;
      }
      this.onSubmitted?.(Number(process.hrtime.bigint() - t0) / 1e9);
      this.store.updateIntake(id, { status: 'submitted' }, this.wall.now());
      this.logger.info('webhook.submitted', { signalId: id });
    }
  }
}

/**
 * Writes an accepted alert (or finds its first delivery) in `store`: what the bot's own /webhook and a separate
 * intake process (`tollgate intake`, no bot in it) both do before they answer 202. Nothing reaches the bus here.
 */
export function acceptAlert(store: Pick<IntakeStore, 'intakeOnce'>, now: number, dedupWindowMs: number, alert: Alert, source: Source, dedup: { key: string; bodyHash: string; byId: boolean }): AcceptResult {
  const signalId = `wh-${randomUUID()}`;
  const signal: Signal = {
    id: signalId, strategy: alert.strategy, pair: alert.pair, side: alert.side, confidence: alert.confidence,
    price: Number(alert.price), reason: alert.reason, source: 'webhook', tsEvent: 0, tsInit: 0,
  };
  const reply: AcceptReply = { status: 'accepted', signalId, pair: alert.pair, side: alert.side, receivedAt: now };
  const row: IntakeRow = {
    signalId, dedupKey: dedup.key, bodyHash: dedup.bodyHash, source, receivedTs: now,
    // the exact price is kept as written; the engine's Signal carries it as a number
    signal: JSON.stringify({ ...signal, priceText: alert.price, alertTs: alert.timeMs, alertId: alert.id }),
    reply: JSON.stringify(reply), status: 'accepted', state: null, decision: null, blockedBy: null, detail: null, updatedTs: now,
  };
  // an id is the same alert for as long as it is kept; a bare body only within the window
  const r = store.intakeOnce(row, dedup.byId ? 0 : now - dedupWindowMs);
  if (r.inserted) return { kind: 'accepted', reply };
  if (r.record.bodyHash !== dedup.bodyHash) return { kind: 'conflict', signalId: r.record.signalId };
  return { kind: 'repeated', reply: JSON.parse(r.record.reply) as AcceptReply };
}
