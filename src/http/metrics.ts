/**
 * `/metrics`: Prometheus text from prom-client. Names carry the `tollgate_` prefix and base units (seconds, the
 * quote currency), counters end in `_total`, labels are few and bounded (strategy, pair, guard, mode, decision,
 * state, kind, outcome — never an id). Counters count from this process's start; gauges are read from the
 * running bot at each scrape.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Bot } from '../engine/bot.ts';
import { Dec } from '../domain/money.ts';

export const HEALTH_VALUE = { healthy: 0, degraded: 1, unhealthy: 2 } as const;

export class Metrics {
  readonly registry = new Registry();
  private attachedTo: unknown = null;
  private readonly decisionStart = new Map<string, bigint>();
  private readonly shadowByGuard = new Map<string, Dec>();

  readonly webhookRequests = new Counter({ name: 'tollgate_webhook_requests_total', help: 'webhook requests by outcome (accepted, repeated, or the refusal code)', labelNames: ['outcome'], registers: [this.registry] });
  readonly httpRequests = new Counter({ name: 'tollgate_http_requests_total', help: 'HTTP requests by route and status class', labelNames: ['route', 'status'], registers: [this.registry] });
  private readonly signals = new Counter({ name: 'tollgate_signals_total', help: 'signals received by the engine', labelNames: ['strategy', 'pair', 'source'], registers: [this.registry] });
  private readonly transitions = new Counter({ name: 'tollgate_signal_transitions_total', help: 'lifecycle transitions by the state entered', labelNames: ['state'], registers: [this.registry] });
  private readonly verdicts = new Counter({ name: 'tollgate_verdicts_total', help: 'guard-chain verdicts', labelNames: ['strategy', 'pair', 'decision'], registers: [this.registry] });
  private readonly guardBlocks = new Counter({ name: 'tollgate_guard_blocks_total', help: 'block verdicts by guard and mode (observe: would have blocked)', labelNames: ['guard', 'mode'], registers: [this.registry] });
  readonly decisionLatency = new Histogram({
    name: 'tollgate_decision_latency_seconds', help: 'time from a signal reaching the kernel to its verdict',
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1], registers: [this.registry],
  });
  private readonly orders = new Counter({ name: 'tollgate_orders_total', help: 'order events by purpose, side and kind', labelNames: ['purpose', 'side', 'kind'], registers: [this.registry] });
  private readonly fills = new Counter({ name: 'tollgate_fills_total', help: 'fills by purpose and side', labelNames: ['purpose', 'side'], registers: [this.registry] });
  private readonly venueErrors = new Counter({ name: 'tollgate_venue_errors_total', help: 'venue trouble by class: rejected orders, ambiguous submits, subscriber errors', labelNames: ['class'], registers: [this.registry] });
  private readonly shadowOutcomes = new Counter({ name: 'tollgate_shadow_outcomes_total', help: 'shadow trades of blocked signals that ended, by status', labelNames: ['status'], registers: [this.registry] });

  constructor(private readonly bot: Bot) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
    const self = this;
    new Gauge({ name: 'tollgate_signals_in_flight', help: 'signals not in a final state, by lifecycle state', labelNames: ['state'], registers: [this.registry],
      collect() {
        this.reset();
        const parts = self.bot.pipeline;
        if (!parts) return;
        const by = new Map<string, number>();
        for (const s of parts.registry.inFlight().values()) by.set(s, (by.get(s) ?? 0) + 1);
        for (const [state, n] of by) this.set({ state }, n);
      } });
    new Gauge({ name: 'tollgate_positions_open', help: 'open positions', registers: [this.registry],
      collect() { this.set(self.bot.pipeline?.portfolio.openCount ?? 0); } });
    new Gauge({ name: 'tollgate_equity', help: 'equity marked to the last close, quote currency', registers: [this.registry],
      collect() { const p = self.bot.pipeline; if (p) this.set(Number(p.kernel.equity().toFixed())); } });
    new Gauge({ name: 'tollgate_exposure', help: 'value of open positions marked to the last close (equity less cash), quote currency', registers: [this.registry],
      collect() {
        const p = self.bot.pipeline;
        if (!p) return;
        let cash = new Dec(0);
        for (const v of p.portfolio.cashBalances().values()) cash = cash.plus(v);
        this.set(Number(p.kernel.equity().minus(cash).toFixed()));
      } });
    new Gauge({ name: 'tollgate_realized_pnl', help: 'realized PnL after fees, quote currency', registers: [this.registry],
      collect() { const p = self.bot.pipeline; if (p) this.set(Number(p.portfolio.realizedPnl.toFixed())); } });
    new Gauge({ name: 'tollgate_fees_paid', help: 'fees paid, quote currency', registers: [this.registry],
      collect() { const p = self.bot.pipeline; if (p) this.set(Number(p.portfolio.fees.toFixed())); } });
    new Gauge({ name: 'tollgate_shadow_pnl', help: 'net PnL of the shadow trades of signals each guard blocked, quote currency', labelNames: ['guard'], registers: [this.registry],
      collect() { for (const [guard, v] of self.shadowByGuard) this.set({ guard }, Number(v.toFixed())); } });
    new Gauge({ name: 'tollgate_component_health', help: 'component health: 0 healthy, 1 degraded, 2 unhealthy', labelNames: ['component'], registers: [this.registry],
      collect() { this.reset(); for (const [c, h] of Object.entries(self.bot.status().components)) this.set({ component: c }, HEALTH_VALUE[h.status]); } });
    new Gauge({ name: 'tollgate_entries_paused', help: '1 while new entries are paused', registers: [this.registry],
      collect() { this.set(self.bot.paused ? 1 : 0); } });
    new Gauge({ name: 'tollgate_candles', help: 'candles the engine traded on', registers: [this.registry],
      collect() { this.set(self.bot.status().candles); } });
  }

  /** Follows the bot's bus once its pipeline exists (idempotent). */
  attach(): boolean {
    const parts = this.bot.pipeline;
    if (!parts) return false;
    if (this.attachedTo === parts.bus) return true;
    this.attachedTo = parts.bus;
    const { bus } = parts;
    bus.subscribe('signal', 'http.metrics', (s) => {
      this.signals.inc({ strategy: s.strategy, pair: s.pair, source: s.source });
      // a candle's signals are queued and decided after it; a webhook signal is decided inside publish (timed by the intake)
      if (this.decisionStart.size < 10_000) this.decisionStart.set(s.id, process.hrtime.bigint());
    });
    bus.subscribe('verdict', 'http.metrics', (v) => {
      const t0 = this.decisionStart.get(v.signal.id);
      this.decisionStart.delete(v.signal.id);
      if (t0 !== undefined && v.signal.source !== 'webhook') this.decisionLatency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      this.verdicts.inc({ strategy: v.signal.strategy, pair: v.signal.pair, decision: v.decision.decision });
      for (const c of v.decision.blockedBy) this.guardBlocks.inc({ guard: c, mode: 'enforce' });
      for (const c of v.decision.observedBlocks) this.guardBlocks.inc({ guard: c, mode: 'observe' });
    });
    bus.subscribe('transition', 'http.metrics', (t) => {
      this.transitions.inc({ state: t.to });
      if (t.terminal) this.decisionStart.delete(t.signalId);
    });
    bus.subscribe('order', 'http.metrics', (e) => {
      this.orders.inc({ purpose: e.order.purpose, side: e.order.side, kind: e.kind });
      if (e.kind === 'rejected') this.venueErrors.inc({ class: 'rejected' });
      if (e.kind === 'unknown') this.venueErrors.inc({ class: 'ambiguous' });
    });
    bus.subscribe('fill', 'http.metrics', (f) => this.fills.inc({ purpose: f.purpose, side: f.side }));
    bus.subscribe('error', 'http.metrics', () => this.venueErrors.inc({ class: 'subscriber' }));
    bus.subscribe('shadow', 'http.metrics', (o) => {
      this.shadowOutcomes.inc({ status: o.status });
      for (const g of o.blockedBy) this.shadowByGuard.set(g, (this.shadowByGuard.get(g) ?? new Dec(0)).plus(o.pnl));
    });
    return true;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
