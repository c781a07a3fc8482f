/**
 * The decision tracker: turns bus traffic into the JSONL files operators tail (shapes: shared/LOGS.md).
 * signal_bus.jsonl — every signal, transition, order event and fill; signal_decisions.jsonl — one line
 * per guard-chain verdict with every guard's result. Lines carry the run id; everything else is a pure
 * function of the data and config, so two replays give identical lines apart from run ids.
 */
import type { SignalBus } from '../bus/bus.ts';
import { isoTime } from '../domain/time.ts';
import type { DecisionLog } from '../ports/decision-log.ts';

export const SCHEMA_VERSION = 1;

export class DecisionTracker {
  constructor(private readonly log: DecisionLog, private readonly runId: string) {}

  private bus(ts: number, event: string, fields: Record<string, unknown>): void {
    // every line carries signalId (LOGS.md); run-level lines have null
    this.log.bus.append({ schemaVersion: SCHEMA_VERSION, ts: isoTime(ts), event, signalId: null, ...fields, runId: this.runId });
  }

  attach(bus: SignalBus): void {
    bus.subscribe('signal', 'tracker', (s) =>
      this.bus(s.tsEvent, 'signal.received', {
        signalId: s.id, strategy: s.strategy, pair: s.pair, side: s.side, confidence: s.confidence, price: String(s.price), reason: s.reason, source: s.source,
      }),
    );
    bus.subscribe('transition', 'tracker', (t) =>
      this.bus(t.ts, 'signal.transition', { signalId: t.signalId, from: t.from, to: t.to, terminal: t.terminal, cause: t.event, ...(t.detail ? { detail: t.detail } : {}) }),
    );
    bus.subscribe('verdict', 'tracker', (v) => {
      const d = v.decision;
      this.log.decisions.append({
        schemaVersion: SCHEMA_VERSION,
        ts: isoTime(d.ts),
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
        ...(e.kind === 'rejected' || e.kind === 'cancelled' ? { reason: e.reason } : {}),
        ...(e.kind === 'filled' || e.kind === 'cancelled' ? { filledQuantity: e.filledQty.toFixed() } : {}),
      }),
    );
    bus.subscribe('fill', 'tracker', (f) =>
      this.bus(f.tsEvent, 'fill', {
        signalId: f.signalId, fillId: f.id, clientOrderId: f.orderId, pair: f.pair, side: f.side, purpose: f.purpose,
        quantity: f.quantity.toFixed(), price: f.price.toFixed(), fee: f.fee.toFixed(), liquidity: f.liquidity,
      }),
    );
    bus.subscribe('position', 'tracker', (p) => {
      if (p.kind !== 'closed' || !p.trade) return;
      const t = p.trade;
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

  openAtEnd(ts: number, signalId: string, state: string): void {
    this.bus(ts, 'signal.open_at_end', { signalId, state });
  }

  runFinished(ts: number, summary: Record<string, unknown>): void {
    this.bus(ts, 'run.finished', { summary });
  }

  flush(): void {
    this.log.bus.flush();
    this.log.decisions.flush();
  }

  close(): void {
    this.log.bus.close();
    this.log.decisions.close();
  }
}
