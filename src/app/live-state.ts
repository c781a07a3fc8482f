/**
 * Durable state of a live run (`tollgate run --mode sim|live`): the SQLite ledger is the source of truth.
 * At start-up, before the first candle: invariants are verified, order intents whose fate is unknown are
 * resolved on the venue (adopted with their fills, or not sent), the ledger is reconciled with the venue,
 * and the in-memory portfolio starts from the ledger's cash. Anything that cannot be trusted stops the
 * start with `health: degraded` and the reason, instead of guessing.
 *
 * Not yet: restoring open bot positions (their exit tracks) into a new run — a restart with open bot
 * positions is refused with a clear message (issue 5 continues).
 */
import type { KrakenVenue } from '../adapters/kraken/kraken-venue.ts';
import { SqliteStateStore } from '../adapters/sqlite/state-store.ts';
import { Dec } from '../domain/money.ts';
import type { ExitReason, MarketMeta, Signal } from '../domain/types.ts';
import type { SignalBus } from '../bus/bus.ts';
import type { LifecycleRegistry } from '../lifecycle/registry.ts';
import { DEFAULT_POLICIES, type ReconcilePolicies } from '../execution/reconcile.ts';
import { Ledger } from '../portfolio/ledger.ts';
import type { Clock } from '../ports/clock.ts';
import { DegradedError } from './durable-replay.ts';
import { DurableOrders } from './durable-orders.ts';
import { runReconciliation, type ReconcileApi, type ReconcileResult } from './reconciliation.ts';

/** the strategy of a bot signal id (`strategy-PAIR-unixSeconds`; strategy names have no dash) */
export const strategyOfSignal = (signalId: string): string => signalId.split('-')[0] ?? 'operator';

/**
 * Records a live run's lifecycle in the state as it happens: each transition saves the signal with its
 * machine snapshot (a signal is stored as `submitted` before its order intent, which the durable order
 * path writes next), and an exit marks the ledger position before its sell is sent.
 */
export function recordLiveState(parts: { readonly bus: SignalBus; readonly registry: LifecycleRegistry }, store: SqliteStateStore, ledger: Ledger): void {
  const signals = new Map<string, Signal>();
  parts.bus.subscribe('signal', 'live-state', (s) => {
    if (!signals.has(s.id)) signals.set(s.id, s);
  });
  parts.bus.subscribe('transition', 'live-state', (t) => {
    const s = signals.get(t.signalId);
    store.write(() => {
      if (s) {
        store.saveSignal({
          id: s.id, strategy: s.strategy, pair: s.pair, side: s.side, state: t.to, terminal: t.terminal, signal: JSON.stringify(s),
          snapshot: JSON.stringify(parts.registry.persisted(t.signalId) ?? { value: t.to, status: 'done' }), deadlineTs: null, updatedTs: t.ts,
        });
      }
      if (t.to === 'exiting') ledger.markExiting(t.signalId, t.detail as ExitReason, { actor: 'bot', key: `exit:${t.signalId}` });
    });
    if (t.terminal) signals.delete(t.signalId);
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
}

export async function openLiveState(o: {
  readonly file: string;
  readonly api: ReconcileApi;
  readonly venue: KrakenVenue;
  readonly markets: ReadonlyMap<string, MarketMeta>;
  readonly pair: string;
  readonly clock: Clock;
  readonly policies?: ReconcilePolicies;
  readonly log?: (line: string) => void;
}): Promise<LiveState> {
  const meta = o.markets.get(o.pair)!;
  const store = SqliteStateStore.open(o.file);
  try {
    const ledger = new Ledger(store, o.clock, (p) => o.markets.get(p));
    const broken = store.invariantViolation();
    if (broken) throw new DegradedError(`state ${o.file}: ${broken}; refusing to trade`);
    const orders = new DurableOrders(store, ledger, o.venue, o.clock, strategyOfSignal);
    const recovered = await orders.recover();
    if (recovered.unresolved) o.log?.(`recovery: ${recovered.adopted.length} order(s) found on the venue and adopted, ${recovered.notSent.length} never sent`);
    let state = ledger.load();
    if (state.sequence === 0) {
      // a new state: the venue's balance is the starting point
      const bal = await o.api.fetchBalance();
      const code = meta.quote === 'USD' ? 'ZUSD' : meta.quote;
      const amount = bal.info?.result?.[code]?.balance ?? String(bal.total?.[meta.quote] ?? '0');
      ledger.setCash({ currency: meta.quote, amount: new Dec(amount).toFixed() }, { actor: 'bot', reason: 'starting balance from the venue', key: 'live-start:cash' });
      state = ledger.load();
    }
    const botPositions = [...state.positions.values()].filter((p) => p.signalId !== null);
    if (botPositions.length) {
      throw new DegradedError(`state ${o.file} holds ${botPositions.length} open bot position(s) from an earlier run (${botPositions.map((p) => p.id).join(', ')}); resuming their exit management is not supported yet — close them (tollgate close ID --state ${o.file}) after selling on the venue, or use another --state`);
    }
    const reconcile = () => runReconciliation({ api: o.api, store, ledger, venue: o.venue, markets: o.markets, pairs: [o.pair], policies: o.policies ?? DEFAULT_POLICIES, clock: o.clock });
    const reconciliation = await reconcile();
    if (reconciliation.halted) {
      throw new DegradedError(`reconciliation with the venue: ${reconciliation.differences.filter((x) => x.policy === 'halt').map((x) => x.detail).join('; ')}; refusing to trade (see tollgate status --state ${o.file})`);
    }
    const cash = ledger.load().cash.get(meta.quote) ?? new Dec(0);
    return { store, ledger, orders, startingCash: { [meta.quote]: cash.toFixed() }, recovered, reconciliation, reconcile };
  } catch (e) {
    store.close();
    throw e;
  }
}
