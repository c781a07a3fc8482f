/**
 * Durable, resumable replay (`tollgate replay … --state FILE`).
 *
 * While a replay runs, the effects of each candle are committed to the SQLite state in ONE transaction
 * at the end of the candle: the ledger operations (fills, exit marks: each with its audit row, gapless
 * sequence number and idempotency key), the signals' lifecycle snapshots, order intents and order
 * states, shadow positions, and the checkpoint (candles done + the JSONL log sizes that match it).
 * Logs are flushed before the commit, so a checkpoint never points past lines that are not on disk.
 *
 * After a crash (kill -9 at any instant, also inside that transaction), the next run with the same
 * data, config and state: truncates the logs back to the checkpoint's sizes (lines written after the
 * last commit belong to the uncommitted part), re-derives the in-memory state (indicators, exit
 * tracks, guard look-backs, shadows) by re-running the committed candles with every write switched
 * off, checks that the result equals the stored ledger (sequence, cash, positions, realized PnL), and
 * carries on from the next candle. A difference refuses to continue (health: degraded) — it never
 * guesses. The end state equals an uninterrupted run's.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync, truncateSync } from 'node:fs';
import type { CandleSeries } from '../domain/candle-series.ts';
import type { OrderRecord, SignalRecord, SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { recordSignals } from './signal-recording.ts';
import { intentRecord, orderRecordAfter } from '../execution/order-records.ts';
import type { SignalBus } from '../bus/bus.ts';
import type { Config } from '../config/schema.ts';
import { Dec } from '../domain/money.ts';
import type { ExitReason, MarketMeta, Signal } from '../domain/types.ts';
import type { LifecycleRegistry } from '../lifecycle/registry.ts';
import { Ledger } from '../portfolio/ledger.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { Clock } from '../ports/clock.ts';
import type { KeyValueStore } from '../ports/store.ts';
import { serializeShadow, type ShadowPosition } from '../shadow/shadow-engine.ts';

/** The state no longer matches what the data and config produce: refuse to go on (health: degraded). */
export class DegradedError extends Error {}

/** Identity of a replay's inputs: the same state file may only resume the same data and config. */
export function replayFingerprint(series: CandleSeries, config: Config): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ pair: series.pair, intervalMs: series.intervalMs, n: series.length, config }));
  for (const a of [series.ts, series.open, series.high, series.low, series.close, series.volume]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  // values beyond a float's 15 digits: two files that differ only there are different data
  if (series.exact.size) h.update(JSON.stringify([...series.exact]));
  return h.digest('hex').slice(0, 32);
}

/** A KeyValueStore that remembers which keys changed since the last commit (shadow positions). */
export class DirtyTrackingStore<T> implements KeyValueStore<T> {
  private readonly map = new Map<string, T>();
  readonly dirty = new Set<string>();
  get(key: string): T | undefined {
    return this.map.get(key);
  }
  set(key: string, value: T): void {
    this.map.set(key, value);
    this.dirty.add(key);
  }
  delete(key: string): void {
    this.map.delete(key);
    this.dirty.add(key);
  }
  values(): IterableIterator<T> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}

export interface DurableDeps {
  readonly store: SqliteStateStore;
  readonly bus: SignalBus;
  readonly clock: Clock;
  readonly registry: LifecycleRegistry;
  readonly markets: ReadonlyMap<string, MarketMeta>;
  readonly shadows: DirtyTrackingStore<ShadowPosition>;
  /** fault injection for the crash test: SIGKILL inside the Nth commit, after the ledger writes */
  readonly killInCommit?: number | undefined;
}

/** Records a replay's durable effects from the bus and commits them once per candle. */
export class DurableRecorder {
  readonly ledger: Ledger;
  /** false while re-deriving committed candles after a restart: effects are counted, not written */
  recording = false;
  /** ledger operations the run has caused so far (written or not) */
  ledgerOps = 0;
  private ops: Array<() => void> = [];
  /** the strategy of each signal in flight: its fills are booked to it */
  private readonly strategies = new Map<string, string>();
  private readonly dirtySignals = new Map<string, SignalRecord>();
  private intents: Array<Parameters<SqliteStateStore['saveOrderIntent']>[0]> = [];
  private readonly orders = new Map<string, OrderRecord>();
  private commits = 0;

  constructor(private readonly d: DurableDeps) {
    this.ledger = new Ledger(d.store, d.clock, (pair) => d.markets.get(pair));
    const { bus } = d;
    bus.subscribe('signal', 'durable', (s) => {
      if (!this.strategies.has(s.id)) this.strategies.set(s.id, s.strategy);
    });
    bus.subscribe('fill', 'durable', (f) => {
      this.ledgerOps++;
      if (!this.recording) return;
      const strategy = this.strategies.get(f.signalId) ?? 'operator';
      this.ops.push(() => void this.ledger.applyFill(f, strategy, { actor: 'bot' }));
    });
    bus.subscribe('transition', 'durable', (t) => {
      if (t.to === 'exiting') this.ledgerOps++; // counted whether written or re-derived
      if (t.terminal) this.strategies.delete(t.signalId);
    });
    recordSignals(bus, d.registry, 'durable', {
      signal: (rec) => void this.dirtySignals.set(rec.id, rec),
      exiting: (signalId, reason) => void this.ops.push(() => void this.ledger.markExiting(signalId, reason, { actor: 'bot', key: `exit:${signalId}` })),
    }, () => this.recording);
    bus.subscribe('orderIntent', 'durable', (o) => {
      if (!this.recording) return;
      this.intents.push(intentRecord(o));
    });
    bus.subscribe('order', 'durable', (e) => {
      if (!this.recording) return;
      // the replay's paper venue has no venue ids; a candle's moves coalesce into its last row
      this.orders.set(e.order.clientOrderId, orderRecordAfter(e, this.orders.get(e.order.clientOrderId), e.ts));
    });
  }

  get dirty(): boolean {
    return this.ops.length > 0 || this.dirtySignals.size > 0 || this.intents.length > 0 || this.orders.size > 0 || this.d.shadows.dirty.size > 0;
  }

  /** Starting cash of a new replay: one setcash per currency, in the first commit. */
  startingCash(cash: Readonly<Record<string, string>>): void {
    for (const [currency, amount] of Object.entries(cash).sort(([a], [b]) => a.localeCompare(b))) {
      this.ledgerOps++;
      this.ops.push(() => void this.ledger.setCash({ currency, amount }, { actor: 'bot', reason: 'replay starting cash', key: `replay-start:cash:${currency}` }));
    }
  }

  /** Forget what a re-derivation produced (nothing of it is written). */
  discard(): void {
    this.ops = [];
    this.dirtySignals.clear();
    this.intents = [];
    this.orders.clear();
    this.d.shadows.dirty.clear();
  }

  /** One transaction: the pending effects and `checkpoint` (which writes the replay cursor). */
  commit(checkpoint: () => void): void {
    const { store, shadows } = this.d;
    const now = this.d.clock.now();
    this.commits++;
    store.write(() => {
      for (const op of this.ops) op();
      if (this.d.killInCommit === this.commits) process.kill(process.pid, 'SIGKILL'); // crash test: die mid-transaction
      for (const i of this.intents) store.saveOrderIntent(i);
      for (const r of this.dirtySignals.values()) store.saveSignal(r);
      for (const o of this.orders.values()) store.saveOrder(o);
      for (const id of shadows.dirty) {
        const sp = shadows.get(id);
        store.saveShadowPosition(id, sp ? 'open' : 'settled', sp ? serializeShadow(sp) : {}, now);
      }
      checkpoint();
    });
    this.discard();
  }

  /** After re-deriving the committed candles: the in-memory ledger must equal the stored one. */
  verify(portfolio: Portfolio, file: string, candlesDone: number): void {
    const stored = this.ledger.load();
    const where = `state ${file} after ${candlesDone} candles`;
    const fail = (what: string) => {
      throw new DegradedError(`${where} does not match what the data and config produce (${what}); refusing to continue — inspect it with \`tollgate status --state ${file}\` and \`tollgate audit verify --state ${file}\`, or start over with --fresh`);
    };
    if (stored.sequence !== this.ledgerOps) fail(`ledger sequence ${stored.sequence}, expected ${this.ledgerOps}`);
    for (const [ccy, v] of portfolio.cashBalances()) {
      const c = stored.cash.get(ccy);
      if (!c || !c.eq(v)) fail(`cash ${ccy} ${c?.toFixed() ?? 'missing'}, expected ${v.toFixed()}`);
    }
    const open = portfolio.openPositions();
    if (stored.positions.size !== open.length) fail(`${stored.positions.size} open positions, expected ${open.length}`);
    for (const p of open) {
      const s = stored.positions.get(p.signalId);
      if (!s || !s.quantity.eq(p.quantity)) fail(`position ${p.signalId}: ${s ? s.quantity.toFixed() : 'missing'}, expected ${p.quantity.toFixed()}`);
    }
    const realized = [...stored.realized.values()].reduce((a, v) => a.plus(v), new Dec(0));
    if (!realized.eq(portfolio.realizedPnl)) fail(`realized PnL ${realized.toFixed()}, expected ${portfolio.realizedPnl.toFixed()}`);
    // the stored lifecycle snapshots of the signals still in flight must be the ones the re-derivation has live
    const live = this.d.registry.inFlight();
    const storedOpen = this.d.store.openSignals();
    if (storedOpen.length !== live.size) fail(`${storedOpen.length} signals in flight in the state, expected ${live.size}`);
    for (const r of storedOpen) {
      const snap = JSON.parse(r.snapshot) as { value?: unknown };
      if (live.get(r.id) !== r.state || snap.value !== r.state) fail(`signal ${r.id} is ${r.state} in the state, expected ${live.get(r.id) ?? 'not in flight'}`);
    }
  }
}

/** Log files → their sizes now (the checkpoint's offsets). */
export function logSizes(files: readonly string[]): Record<string, number> {
  return Object.fromEntries(files.map((f) => [f, existsSync(f) ? statSync(f).size : 0]));
}

/**
 * Cut each log back to its checkpoint size: lines after it were written by the uncommitted part of a
 * crashed run. Only this run's lines are ever cut: if another run appended to the file since, nothing is
 * touched and the resume is refused (logs are append-only; another run's lines are not ours to remove).
 */
export function rollBackLogs(offsets: Readonly<Record<string, number>>, runId: string): number {
  let cut = 0;
  const ours = `"runId":"${runId}"}`;
  for (const [f, size] of Object.entries(offsets)) {
    if (!existsSync(f)) continue;
    const now = statSync(f).size;
    if (now <= size) continue;
    const fd = openSync(f, 'r');
    const tail = Buffer.alloc(now - size);
    try {
      readSync(fd, tail, 0, tail.length, size);
    } finally {
      closeSync(fd);
    }
    const lines = tail.toString('utf8').split('\n');
    const complete = lines.slice(0, -1); // the last piece is a torn line of the crash, or empty
    const foreign = complete.filter((l) => l.length > 0 && !l.endsWith(ours));
    if (foreign.length) {
      throw new DegradedError(`log ${f}: ${foreign.length} line(s) of another run were appended after this replay was interrupted; refusing to cut them — resume with the --logs it started with only if nothing else writes there, or start over with --fresh`);
    }
  }
  for (const [f, size] of Object.entries(offsets)) {
    if (!existsSync(f)) {
      if (size > 0) throw new DegradedError(`log ${f} is missing but the state says it held ${size} bytes; refusing to continue (start over with --fresh)`);
      continue;
    }
    const now = statSync(f).size;
    if (now < size) throw new DegradedError(`log ${f} is shorter (${now} bytes) than the state says (${size}); refusing to continue (start over with --fresh)`);
    if (now > size) {
      truncateSync(f, size);
      cut += now - size;
    }
  }
  return cut;
}
