/**
 * What the operator API lists besides the ledger: the recent signals with their decisions and lifecycle
 * state, and the recent orders with their last event. Followed on the bot's bus, bounded (the newest
 * `limit` of each), in memory: the durable record is the JSONL contract logs and, for webhooks, the intake.
 */
import type { Bot } from '../engine/bot.ts';
import { isoTime } from '../domain/time.ts';
import type { Signal } from '../domain/types.ts';

export interface SignalView {
  readonly signalId: string;
  strategy: string;
  pair: string;
  side: string;
  source: string;
  price: number;
  confidence: number;
  ts: string;
  state: string;
  terminal: boolean;
  decision: string | null;
  blockedBy: string[];
  observedBlocks: string[];
  guards: Array<{ code: string; mode: string; verdict: string; detail: string | null }>;
  detail: string | null;
}

export interface OrderView {
  readonly clientOrderId: string;
  readonly signalId: string;
  readonly pair: string;
  readonly side: string;
  readonly type: string;
  readonly purpose: string;
  readonly quantity: string;
  readonly limitPrice: string | null;
  status: string;
  filledQuantity: string;
  reason: string | null;
  updated: string;
}

export class Activity {
  private readonly signals = new Map<string, SignalView>();
  private readonly orders = new Map<string, OrderView>();
  private attachedTo: unknown = null;
  private readonly closes = new Map<string, number>();

  constructor(private readonly bot: Bot, private readonly limit = 1000) {}

  attach(): boolean {
    const parts = this.bot.pipeline;
    if (!parts) return false;
    if (this.attachedTo === parts.bus) return true;
    this.attachedTo = parts.bus;
    const { bus } = parts;
    bus.subscribe('candle', 'http.activity', (c) => this.closes.set(c.pair, c.close));
    // a webhook signal is decided inside its publish, so its transitions and verdict may come before its `signal` event
    bus.subscribe('signal', 'http.activity', (s) => this.fill(this.view(s.id), s));
    bus.subscribe('verdict', 'http.activity', (v) => {
      const s = this.fill(this.view(v.signal.id), v.signal);
      s.decision = v.decision.decision;
      s.blockedBy = [...v.decision.blockedBy];
      s.observedBlocks = [...v.decision.observedBlocks];
      s.guards = v.decision.guards.map((g) => ({ code: g.code, mode: g.mode, verdict: g.verdict, detail: g.detail }));
    });
    bus.subscribe('transition', 'http.activity', (t) => {
      const s = this.view(t.signalId);
      s.state = t.to;
      s.terminal = t.terminal;
      if (t.detail !== undefined) s.detail = t.detail;
    });
    bus.subscribe('order', 'http.activity', (e) => {
      const o = e.order;
      const prev = this.orders.get(o.clientOrderId);
      const filled = e.kind === 'filled' || e.kind === 'cancelled' ? e.filledQty.toFixed() : prev?.filledQuantity ?? '0';
      this.put(this.orders, o.clientOrderId, {
        clientOrderId: o.clientOrderId, signalId: o.signalId, pair: o.pair, side: o.side, type: o.type, purpose: o.purpose,
        quantity: o.quantity.toFixed(), limitPrice: o.limitPrice?.toFixed() ?? null,
        status: e.kind, filledQuantity: filled, reason: 'reason' in e ? e.reason : null, updated: isoTime(e.ts),
      });
    });
    return true;
  }

  private view(id: string): SignalView {
    let v = this.signals.get(id);
    if (!v) {
      v = { signalId: id, strategy: '', pair: '', side: '', source: '', price: 0, confidence: 0, ts: '', state: 'received', terminal: false, decision: null, blockedBy: [], observedBlocks: [], guards: [], detail: null };
      this.put(this.signals, id, v);
    }
    return v;
  }

  private fill(v: SignalView, s: Signal): SignalView {
    if (v.source === '') Object.assign(v, { strategy: s.strategy, pair: s.pair, side: s.side, source: s.source, price: s.price, confidence: s.confidence, ts: isoTime(s.tsEvent) });
    return v;
  }

  private put<T>(m: Map<string, T>, k: string, v: T): void {
    m.delete(k);
    m.set(k, v);
    if (m.size > this.limit) m.delete(m.keys().next().value as string);
  }

  /** the last candle close of a pair (the mark positions are valued at), or null */
  lastClose(pair: string): number | null {
    return this.closes.get(pair) ?? null;
  }

  /** newest first */
  recentSignals(limit: number): SignalView[] {
    return [...this.signals.values()].reverse().slice(0, limit);
  }

  signal(id: string): SignalView | undefined {
    return this.signals.get(id);
  }

  recentOrders(limit: number, openOnly: boolean): OrderView[] {
    const all = [...this.orders.values()].reverse();
    return (openOnly ? all.filter((o) => o.status === 'accepted' || o.status === 'unknown' || o.status === 'resolved') : all).slice(0, limit);
  }
}
