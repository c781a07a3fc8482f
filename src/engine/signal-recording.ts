/**
 * The one durable recording of a signal's life, shared by the resumable replay (DurableRecorder, which
 * batches effects into one transaction per candle) and a live run (recordLiveState, which writes each at
 * once): the stored signal row (state, machine snapshot, entry deadline) on every transition, and the
 * ledger's exit mark when a position starts exiting. One function decides what is recorded, so a replay's
 * state and a live run's state of the same events are the same rows.
 */
import type { SignalBus } from '../bus/bus.ts';
import type { ExitReason, Signal } from '../domain/types.ts';
import type { LifecycleRegistry } from '../lifecycle/registry.ts';
import type { SignalRecord } from '../ports/store.ts';

export interface SignalRecordingSink {
  /** the signal's row as it is now */
  signal(rec: SignalRecord): void;
  /** the signal's position started exiting for `reason` (ledger: markExiting) */
  exiting(signalId: string, reason: ExitReason): void;
}

/** Follows the bus and tells `sink` what to record; `active()` false re-derives without recording (a resume). */
export function recordSignals(bus: SignalBus, registry: LifecycleRegistry, name: string, sink: SignalRecordingSink, active: () => boolean = () => true): void {
  const signals = new Map<string, Signal>();
  const last = new Map<string, SignalRecord>();
  bus.subscribe('signal', name, (s) => {
    if (!signals.has(s.id)) signals.set(s.id, s);
  });
  bus.subscribe('transition', name, (t) => {
    if (active()) {
      if (t.to === 'exiting') sink.exiting(t.signalId, t.detail as ExitReason);
      const s = signals.get(t.signalId);
      if (s) {
        const rec: SignalRecord = {
          id: s.id, strategy: s.strategy, pair: s.pair, side: s.side, state: t.to, terminal: t.terminal, signal: JSON.stringify(s),
          snapshot: JSON.stringify(registry.persisted(t.signalId) ?? { value: t.to, status: 'done' }),
          deadlineTs: last.get(t.signalId)?.deadlineTs ?? null, updatedTs: t.ts,
        };
        last.set(t.signalId, rec);
        sink.signal(rec);
      }
    }
    if (t.terminal) {
      signals.delete(t.signalId);
      last.delete(t.signalId);
    }
  });
  // an entry order's deadline is the signal's: kept on its row so a recovery re-arms it
  bus.subscribe('orderIntent', name, (o) => {
    const rec = last.get(o.signalId);
    if (!active() || !rec || o.deadlineTs === undefined || rec.deadlineTs === o.deadlineTs) return;
    const withDeadline = { ...rec, deadlineTs: o.deadlineTs };
    last.set(o.signalId, withDeadline);
    sink.signal(withDeadline);
  });
}
