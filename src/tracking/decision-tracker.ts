/**
 * The decision tracker: turns bus traffic into the JSONL files operators tail (shapes: shared/LOGS.md).
 * signal_bus.jsonl — every signal, transition, order event and fill; signal_decisions.jsonl — one line
 * per guard-chain verdict with every guard's result. Lines carry the run id; everything else is a pure
 * function of the data and config, so two replays give identical lines apart from run ids.
 * shadow_trade_outcomes.jsonl — one line per blocked signal's shadow trade when it ends;
 * signal_outcomes.jsonl — one final record per signal: its decision joined to its outcome (realized
 * for approved signals, shadow for blocked ones), written when the signal's story ends.
 */
import type { SignalBus } from '../bus/bus.ts';
import type { Dec } from '../domain/money.ts';
import { isoTime } from '../domain/time.ts';
import type { BlockCode, ClosedTrade, ShadowOutcome, Side } from '../domain/types.ts';
import type { DecisionLog } from '../ports/decision-log.ts';

export const SCHEMA_VERSION = 1;

interface Pending {
  strategy: string;
  pair: string;
  side: Side;
  decision: 'approved' | 'blocked' | null;
  blockedBy: readonly BlockCode[];
  observedBlocks: readonly BlockCode[];
  trade: ClosedTrade | null;
}

const str = (d: Dec | null) => (d === null ? null : d.toFixed());
const iso = (t: number | null) => (t === null ? null : isoTime(t));
/** percent with 4 decimals, as a number (statistics; the money itself is the `pnl` string) */
const pct = (r: number | null) => (r === null ? null : Math.round(r * 1e6) / 1e4);

/** what a final record adds to its decision: a realized outcome's exit and pnl; a shadow outcome's with its status and overlap */
type FinalFields =
  | { readonly status?: undefined; readonly exitReason: string | null; readonly pnl: string | null; readonly pnlPct: number | null }
  | { readonly status: string; readonly exitReason: string | null; readonly pnl: string; readonly pnlPct: number | null; readonly overlaps: boolean };

export class DecisionTracker {
  /** signals whose final record is not written yet */
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly log: DecisionLog, private readonly runId: string) {}

  private final(id: string, ts: number, end: string, outcome: 'realized' | 'shadow' | 'none', fields: FinalFields): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    // the two shapes written out rather than spread: the record made in one step
    this.log.outcomes.append(fields.status === undefined
      ? {
        schemaVersion: SCHEMA_VERSION, ts: this.iso(ts), signalId: id, strategy: p.strategy, pair: p.pair, side: p.side, decision: p.decision, blockedBy: p.blockedBy,
        observedBlocks: p.observedBlocks, end, outcome, exitReason: fields.exitReason, pnl: fields.pnl, pnlPct: fields.pnlPct, runId: this.runId,
      }
      : {
        schemaVersion: SCHEMA_VERSION, ts: this.iso(ts), signalId: id, strategy: p.strategy, pair: p.pair, side: p.side, decision: p.decision, blockedBy: p.blockedBy,
        observedBlocks: p.observedBlocks, end, outcome, status: fields.status, exitReason: fields.exitReason, pnl: fields.pnl, pnlPct: fields.pnlPct, overlaps: fields.overlaps, runId: this.runId,
      });
  }

  private realized(id: string, ts: number, end: string): void {
    const t = this.pending.get(id)?.trade ?? null;
    this.final(id, ts, end, t ? 'realized' : 'none', {
      exitReason: t?.exitReason ?? null, pnl: t ? t.pnl.toFixed() : end === 'open_at_end' ? null : '0', pnlPct: t ? pct(t.pnlRatio) : null,
    });
  }

  private bus(ts: number, event: string, fields: Record<string, unknown>): void {
    // every line carries signalId (LOGS.md); run-level lines have null
    this.log.bus.append({ schemaVersion: SCHEMA_VERSION, ts: this.iso(ts), event, signalId: null, ...fields, runId: this.runId });
  }

  // the time of the line before: a signal's lines, and a candle's, mostly share it (formatted once)
  private lastTs = NaN;
  private lastIso = '';
  private iso(ts: number): string {
    if (ts !== this.lastTs) {
      this.lastIso = isoTime(ts);
      this.lastTs = ts;
    }
    return this.lastIso;
  }

  attach(bus: SignalBus): void {
    bus.subscribe('signal', 'tracker', (s) => {
      // a repeated id is dropped by the kernel: it must not overwrite the original's pending record
      if (!this.pending.has(s.id)) this.pending.set(s.id, { strategy: s.strategy, pair: s.pair, side: s.side, decision: null, blockedBy: [], observedBlocks: [], trade: null });
      // the hot lines are built whole, in the key order bus() gives (schemaVersion, ts, event, signalId, fields, runId)
      this.log.bus.append({
        schemaVersion: SCHEMA_VERSION, ts: this.iso(s.tsEvent), event: 'signal.received', signalId: s.id,
        strategy: s.strategy, pair: s.pair, side: s.side, confidence: s.confidence, price: String(s.price), reason: s.reason, source: s.source, runId: this.runId,
      });
    });
    bus.subscribe('transition', 'tracker', (t) => {
      const ts = this.iso(t.ts);
      this.log.bus.append(t.detail
        ? { schemaVersion: SCHEMA_VERSION, ts, event: 'signal.transition', signalId: t.signalId, from: t.from, to: t.to, terminal: t.terminal, cause: t.event, detail: t.detail, runId: this.runId }
        : { schemaVersion: SCHEMA_VERSION, ts, event: 'signal.transition', signalId: t.signalId, from: t.from, to: t.to, terminal: t.terminal, cause: t.event, runId: this.runId });
      // a blocked signal's story ends with its shadow outcome; every other terminal state ends it here
      if (t.terminal && t.to !== 'blocked') this.realized(t.signalId, t.ts, t.to);
    });
    bus.subscribe('shadow', 'tracker', (o) => {
      const line = this.shadowLine(o);
      this.log.shadow.append(line);
      // its pnl as the outcome line has it (formatted once)
      this.final(o.signalId, o.ts, 'blocked', 'shadow', { status: o.status, exitReason: o.exitReason, pnl: line.pnl, pnlPct: line.pnlPct, overlaps: o.overlaps });
    });
    bus.subscribe('verdict', 'tracker', (v) => {
      const d = v.decision;
      const p = this.pending.get(d.signalId);
      if (p) {
        p.decision = d.decision;
        p.blockedBy = d.blockedBy;
        p.observedBlocks = d.observedBlocks;
      }
      this.log.decisions.append({
        schemaVersion: SCHEMA_VERSION,
        ts: this.iso(d.ts),
        signalId: d.signalId,
        strategy: v.signal.strategy,
        pair: v.signal.pair,
        side: v.signal.side,
        decision: d.decision,
        guards: d.guards,
        blockedBy: d.blockedBy,
        observedBlocks: d.observedBlocks,
        confidence: v.signal.confidence,
        price: v.proposal.price,
        quantity: v.proposal.quantity,
        cost: v.proposal.cost,
        runId: this.runId,
      });
    });
    bus.subscribe('orderIntent', 'tracker', (o) =>
      this.bus(o.tsEvent, 'order.submitted', {
        signalId: o.signalId, clientOrderId: o.clientOrderId, pair: o.pair, side: o.side, type: o.type, purpose: o.purpose,
        quantity: o.quantity.toFixed(), ...(o.limitPrice ? { limitPrice: o.limitPrice.toFixed() } : {}), ...(o.exitReason ? { exitReason: o.exitReason } : {}),
      }),
    );
    bus.subscribe('order', 'tracker', (e) =>
      this.bus(e.ts, `order.${e.kind}`, {
        signalId: e.order.signalId, clientOrderId: e.order.clientOrderId, purpose: e.order.purpose,
        ...(e.kind === 'rejected' || e.kind === 'cancelled' || e.kind === 'unknown' ? { reason: e.reason } : {}),
        ...(e.kind === 'resolved' ? { how: e.how } : {}),
        ...(e.kind === 'filled' || e.kind === 'cancelled' ? { filledQuantity: e.filledQty.toFixed() } : {}),
      }),
    );
    bus.subscribe('fill', 'tracker', (f) =>
      this.log.bus.append({
        schemaVersion: SCHEMA_VERSION, ts: this.iso(f.tsEvent), event: 'fill', signalId: f.signalId, fillId: f.id, clientOrderId: f.orderId, pair: f.pair, side: f.side, purpose: f.purpose,
        quantity: f.quantity.toFixed(), price: f.price.toFixed(), fee: f.fee.toFixed(), liquidity: f.liquidity, runId: this.runId,
      }),
    );
    bus.subscribe('position', 'tracker', (p) => {
      if (p.kind !== 'closed' || !p.trade) return;
      const t = p.trade;
      const pend = this.pending.get(t.signalId);
      if (pend) pend.trade = t;
      this.bus(p.ts, 'trade.closed', {
        signalId: t.signalId, strategy: t.strategy, pair: t.pair, side: t.side, quantity: t.quantity.toFixed(),
        entryTs: isoTime(t.entryTs), entryPrice: t.entryPrice.toFixed(), exitTs: isoTime(t.exitTs), exitPrice: t.exitPrice.toFixed(),
        exitReason: t.exitReason, fees: t.fees.toFixed(), pnl: t.pnl.toFixed(),
      });
    });
    bus.subscribe('warning', 'tracker', (w) => this.bus(w.ts, 'warning', { code: w.code, message: w.message, ...(w.signalId ? { signalId: w.signalId } : {}) }));
    bus.subscribe('error', 'tracker', (e) => this.bus(e.ts, 'bus.error', { topic: e.topic, subscriber: e.subscriber, error: e.error }));
  }

  runStarted(ts: number, info: Record<string, unknown>): void {
    this.bus(ts, 'run.started', info);
  }

  /** A durable replay carried on after an interruption (its earlier lines are already in the files). */
  runResumed(ts: number, info: Record<string, unknown>): void {
    this.bus(ts, 'run.resumed', info);
  }

  /** The shadow_trade_outcomes.jsonl line of an outcome (shape: shared/LOGS.md). */
  private shadowLine(o: ShadowOutcome) {
    return {
      schemaVersion: SCHEMA_VERSION, ts: this.iso(o.ts), signalId: o.signalId, strategy: o.strategy, pair: o.pair, side: o.side,
      blockedBy: o.blockedBy, blockingGuards: o.blockingGuards, status: o.status, reason: o.reason, decidedTs: this.iso(o.decidedTs),
      entryTs: iso(o.entryTs), entryPrice: str(o.entryPrice), exitTs: iso(o.exitTs), exitPrice: str(o.exitPrice), exitReason: o.exitReason,
      quantity: o.quantity.toFixed(), fees: o.fees.toFixed(), pnl: o.pnl.toFixed(), pnlPct: pct(o.pnlRatio),
      maxAdverse: o.maxAdverse.toFixed(), maxFavourable: o.maxFavourable.toFixed(), overlaps: o.overlaps, runId: this.runId,
    };
  }

  /** A signal still in flight when the data ended (its final record says so). */
  openAtEnd(ts: number, signalId: string, state: string): void {
    this.bus(ts, 'signal.open_at_end', { signalId, state });
    this.realized(signalId, ts, 'open_at_end');
  }

  runFinished(ts: number, summary: Record<string, unknown>): void {
    this.bus(ts, 'run.finished', { summary });
  }

  flush(): void {
    for (const sink of Object.values(this.log)) sink.flush();
  }

  close(): void {
    for (const sink of Object.values(this.log)) sink.close();
  }
}
