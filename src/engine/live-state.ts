/**
 * Durable state of a live run (`tollgate run --mode sim|live`): the SQLite ledger is the source of truth.
 * At start-up, before the first candle: invariants are verified, order intents whose fate is unknown are
 * resolved on the venue (adopted with their fills, or not sent), the ledger is reconciled with the venue,
 * and the in-memory portfolio starts from the ledger's cash. Anything that cannot be trusted stops the
 * start with `health: degraded` and the reason, instead of guessing.
 *
 * A restart carries the run on: entries still working are cancelled (a restart is a good reason to drop
 * a stale entry; what filled is kept), and `resume()` brings every signal still in flight back as a live
 * actor in its state, every open bot position back into the portfolio and the kernel (exit rules, a
 * working exit order, the trailing peak from the warm-up history), and settles signals whose fate was
 * decided while the bot was down (filled → open, not filled → expired, sold → closed).
 */
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { Dec } from '../domain/money.ts';
import { isFinalOrderStatus } from '../domain/order-status.ts';
import type { ExitReason, MarketMeta, Signal } from '../domain/types.ts';
import type { RecentSignal } from '../guards/types.ts';
import type { KeyValueStore } from '../ports/store.ts';
import { reviveShadow, serializeShadow, type ShadowPosition } from '../shadow/shadow-engine.ts';
import type { PipelineParts } from './compose.ts';
import { DEFAULT_POLICIES, type ReconcilePolicies } from '../execution/reconcile.ts';
import { Ledger } from '../portfolio/ledger.ts';
import type { Clock } from '../ports/clock.ts';
import { DegradedError } from './durable-replay.ts';
import { recordSignals } from './signal-recording.ts';
import { DurableOrders } from '../execution/durable-orders.ts';
import { runReconciliation, type ReconcileResult } from '../execution/reconciliation.ts';
import type { VenueAccount, VenueOrders } from '../ports/orders.ts';
import { HoldingsService } from '../execution/holdings.ts';
import type { Logger } from '../ports/logger.ts';

/**
 * Open shadow positions of a live run, kept in the state as they change (JSON, exact decimal strings):
 * a restart follows them on instead of reporting them open at the stop.
 */
export class SqliteShadowStore implements KeyValueStore<ShadowPosition> {
  private readonly map = new Map<string, ShadowPosition>();
  constructor(private readonly store: SqliteStateStore, private readonly clock: Clock) {
    for (const r of store.shadowPositions('open')) this.map.set(r.signalId, reviveShadow(r.data as Record<string, any>));
  }
  get(key: string): ShadowPosition | undefined {
    return this.map.get(key);
  }
  set(key: string, value: ShadowPosition): void {
    this.map.set(key, value);
    this.store.saveShadowPosition(key, 'open', serializeShadow(value), this.clock.now());
  }
  delete(key: string): void {
    this.map.delete(key);
    this.store.saveShadowPosition(key, 'settled', {}, this.clock.now());
  }
  values(): IterableIterator<ShadowPosition> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}

/** the strategy of a bot signal id (`strategy-PAIR-unixSeconds`; strategy names have no dash) */
export const strategyOfSignal = (signalId: string): string => signalId.split('-')[0] ?? 'operator';

/**
 * Records a live run's lifecycle in the state as it happens: each transition saves the signal with its
 * machine snapshot (a signal is stored as `submitted` before its order intent, which the durable order
 * path writes next), and an exit marks the ledger position before its sell is sent.
 */
export function recordLiveState(parts: PipelineParts, store: SqliteStateStore, ledger: Ledger): void {
  // the guards' look-back of recent signals survives a restart
  parts.bus.subscribe('verdict', 'live-state', (v) => store.setGuardState(RECENT_KEY, parts.kernel.recentSignals(), v.decision.ts));
  recordSignals(parts.bus, parts.registry, 'live-state', {
    signal: (rec) => store.saveSignal(rec),
    exiting: (signalId, reason) => void ledger.markExiting(signalId, reason, { actor: 'bot', key: `exit:${signalId}` }),
  });
}

export interface LiveState {
  readonly store: SqliteStateStore;
  readonly ledger: Ledger;
  readonly orders: DurableOrders;
  /** the ledger's cash in the pair's quote: the in-memory portfolio starts from it */
  readonly startingCash: Record<string, string>;
  readonly recovered: { adopted: string[]; notSent: string[] };
  readonly reconciliation: ReconcileResult;
  reconcile(): Promise<ReconcileResult>;
  /** bot-managed positions and external holdings: `manage` / `unmanage` (src/execution/holdings.ts) */
  readonly holdings: HoldingsService;
  /** bring signals in flight and open positions back into a new run's pipeline (before its first candle) */
  resume(parts: PipelineParts): { restoredSignals: number; adoptedPositions: number };
}

const RECENT_KEY = 'live.recentSignals';

export function resumeRun(parts: PipelineParts, store: SqliteStateStore, ledger: Ledger, file: string): { restoredSignals: number; adoptedPositions: number } {
  const { registry, portfolio, kernel } = parts;
  const state = ledger.load();
  // what the guards look back over: closed trades (from the ledger) and recent signals
  portfolio.restoreClosed(state.closedTrades.filter((t) => t.strategy !== 'operator'));
  kernel.restoreRecent(store.guardState<RecentSignal[]>(RECENT_KEY) ?? []);
  const orderRows = store.orderIntentsWithStatus();
  let restored = 0;
  let adopted = 0;
  for (const r of store.openSignals()) {
    let now: string;
    try {
      now = registry.restore(r.id, JSON.parse(r.snapshot), r.updatedTs);
    } catch (e) {
      throw new DegradedError(`state ${file}: signal ${r.id} cannot be restored from its stored snapshot (${(e as Error).message}); refusing to trade`);
    }
    restored++;
    const pos = state.positions.get(r.id);
    const exits = orderRows.filter((x) => x.signalId === r.id && x.purpose === 'exit');
    const adopt = (exitReason: ExitReason | null) => {
      const p = pos!;
      portfolio.adopt(p);
      const workingExit = exits.filter((x) => !isFinalOrderStatus(x.status)).at(-1)?.clientOrderId ?? null;
      kernel.adoptHolding({ ...p, signalId: r.id }, r.strategy, exitReason, workingExit, exits.length);
      adopted++;
    };
    switch (now) {
      case 'received':
      case 'validated':
      case 'guarded':
      case 'approved':
        registry.send(r.id, { type: 'EXPIRE', reason: 'restart: not yet sent' }, 'restart');
        break;
      case 'submitted':
      case 'submit_unknown':
      case 'partially_filled':
      case 'filled':
        if (pos) {
          if (now !== 'filled') registry.send(r.id, { type: 'FILL', quantity: pos.quantity.toFixed() }, 'restart: filled while the bot was down');
          registry.send(r.id, { type: 'OPEN' });
          adopt(null);
        } else registry.send(r.id, { type: 'EXPIRE', reason: 'restart: the entry did not fill' }, 'restart');
        break;
      case 'open':
        if (pos) adopt(null);
        else {
          registry.send(r.id, { type: 'EXIT', reason: 'operator', clientOrderId: 'outside' }, 'closed outside the bot');
          registry.send(r.id, { type: 'CLOSE' });
        }
        break;
      case 'exiting':
        if (pos) adopt(pos.exitReason ?? 'operator');
        else registry.send(r.id, { type: 'CLOSE' }, 'restart: sold while the bot was down');
        break;
      default:
        break;
    }
  }
  // every open bot position must have come back with its signal
  for (const p of state.positions.values()) {
    if (p.signalId !== null && registry.state(p.signalId) === undefined) throw new DegradedError(`state ${file}: open position ${p.id} has no signal to resume it with; refusing to trade`);
  }
  return { restoredSignals: restored, adoptedPositions: adopted };
}

export const NONCE_KEY = 'kraken.nonce';

export async function openLiveState(o: {
  readonly file: string;
  /** the state, when the caller opened it already (to read the persisted nonce first) */
  readonly store?: SqliteStateStore;
  /** what the venue's account holds (src/adapters/kraken/account.ts) */
  readonly account: VenueAccount & { balances(): Promise<ReadonlyMap<string, Dec>> };
  readonly venue: VenueOrders;
  readonly markets: ReadonlyMap<string, MarketMeta>;
  readonly pair: string;
  readonly clock: Clock;
  readonly policies?: ReconcilePolicies;
  /** the operational log */
  readonly logger?: Logger;
}): Promise<LiveState> {
  const meta = o.markets.get(o.pair)!;
  const store = o.store ?? SqliteStateStore.open(o.file);
  try {
    const ledger = new Ledger(store, o.clock, (p) => o.markets.get(p));
    const broken = store.invariantViolation();
    if (broken) throw new DegradedError(`state ${o.file}: ${broken}; refusing to trade`);
    // a sell is sent only for what the bot's own ledger position holds: external holdings are never sold
    const botQuantity = (signalId: string) => {
      const row = store.positionRow(signalId);
      return row ? new Dec(row.quantity) : undefined;
    };
    const orders = new DurableOrders(store, ledger, o.venue, o.clock, strategyOfSignal, null, undefined, botQuantity);
    const recovered = await orders.recover();
    if (recovered.unresolved) o.logger?.info('recovery.orders', { adopted: recovered.adopted.length, notSent: recovered.notSent.length }, `recovery: ${recovered.adopted.length} order(s) found on the venue and adopted, ${recovered.notSent.length} never sent`);
    let state = ledger.load();
    if (state.sequence === 0) {
      // a new state: the venue's balance is the starting point — the quote's tradable balance, from Kraken's exact
      // strings by common code (src/kraken/assets.ts), as reconciliation reads it
      const amount = (await o.account.balances()).get(meta.quote) ?? new Dec(0);
      ledger.setCash({ currency: meta.quote, amount: amount.toFixed() }, { actor: 'bot', reason: 'starting balance from the venue', key: 'live-start:cash' });
      state = ledger.load();
    }
    // entries still working after the recovery are cancelled: what filled while the bot was down is kept
    for (const id of store.workingOrderIds('entry')) o.venue.cancel(id, 'restart: a stale entry is not left working');
    await o.venue.idle();
    await o.venue.poll();
    const reconcile = () => runReconciliation({ account: o.account, store, ledger, venue: o.venue, pairs: [o.pair], policies: o.policies ?? DEFAULT_POLICIES, clock: o.clock, holdings: store });
    const reconciliation = await reconcile();
    if (reconciliation.halted) {
      throw new DegradedError(`reconciliation with the venue: ${reconciliation.differences.filter((x) => x.policy === 'halt').map((x) => x.detail).join('; ')}; refusing to trade (see tollgate status --state ${o.file})`);
    }
    const cash = ledger.load().cash.get(meta.quote) ?? new Dec(0);
    return {
      store, ledger, orders, startingCash: { [meta.quote]: cash.toFixed() }, recovered, reconciliation, reconcile,
      holdings: new HoldingsService({ ledger, store, clock: o.clock }),
      resume: (parts) => resumeRun(parts, store, ledger, o.file),
    };
  } catch (e) {
    store.close();
    throw e;
  }
}
