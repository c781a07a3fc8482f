/**
 * Fault injection for the Kraken simulator: each fault targets the next N calls of one method (or `*`
 * for any), and is consumed as those calls arrive.
 */

export type Fault =
  /** delay the call before it is processed */
  | { readonly kind: 'latency'; readonly ms: number }
  /**
   * process the call (the order is placed), then never answer: `hangup` destroys the socket (the client sees
   * a connection reset / socket hang-up), `hold` keeps it open until the client gives up (a timeout)
   */
  | { readonly kind: 'drop'; readonly mode: 'hangup' | 'hold' }
  /** answer with an HTTP 5xx and a non-JSON body; with `afterAccept` the call is processed first */
  | { readonly kind: 'http'; readonly status: number; readonly afterAccept: boolean }
  /** answer with a Kraken error string; with `afterAccept` the call is processed first (the order exists) */
  | { readonly kind: 'error'; readonly error: string; readonly afterAccept: boolean }
  /** AddOrder: the order placed fills at most `fraction` of its volume, the rest stays open */
  | { readonly kind: 'partialFill'; readonly fraction: number }
  /** CancelOrder: the order fills completely while the cancel is in flight; the cancel answers EOrder:Unknown order */
  | { readonly kind: 'cancelRace' };

/** Fault constructors: `sim.inject('AddOrder', fault.drop())`. */
export const fault = {
  latency: (ms: number): Fault => ({ kind: 'latency', ms }),
  drop: (mode: 'hangup' | 'hold' = 'hangup'): Fault => ({ kind: 'drop', mode }),
  http: (status = 502, afterAccept = false): Fault => ({ kind: 'http', status, afterAccept }),
  error: (error: string, afterAccept = false): Fault => ({ kind: 'error', error, afterAccept }),
  rateLimit: (): Fault => ({ kind: 'error', error: 'EAPI:Rate limit exceeded', afterAccept: false }),
  invalidNonce: (): Fault => ({ kind: 'error', error: 'EAPI:Invalid nonce', afterAccept: false }),
  /** EService:Unavailable; by default after the order was accepted (the outcome is unknown to the client) */
  unavailable: (afterAccept = true): Fault => ({ kind: 'error', error: 'EService:Unavailable', afterAccept }),
  partialFill: (fraction = 0.5): Fault => ({ kind: 'partialFill', fraction }),
  cancelRace: (): Fault => ({ kind: 'cancelRace' }),
};

export interface FaultRule {
  readonly id: number;
  /** Kraken method name (AddOrder, CancelOrder, BalanceEx, Time, …) or `*` */
  readonly method: string;
  readonly fault: Fault;
  remaining: number;
}

export class FaultPlan {
  private rules: FaultRule[] = [];
  private seq = 0;

  add(method: string, f: Fault, times = 1): FaultRule {
    validateFault(f);
    if (!Number.isInteger(times) || times < 1) throw new Error(`kraken-sim: fault times must be a positive integer, got ${times}`);
    const rule: FaultRule = { id: ++this.seq, method, fault: f, remaining: times };
    this.rules.push(rule);
    return rule;
  }

  /** the faults for this call (at most one per kind, oldest rule first), consumed */
  take(method: string): Fault[] {
    const out: Fault[] = [];
    const kinds = new Set<string>();
    for (const r of this.rules) {
      if (r.remaining <= 0 || (r.method !== '*' && r.method !== method) || kinds.has(r.fault.kind)) continue;
      if ((r.fault.kind === 'partialFill' && method !== 'AddOrder') || (r.fault.kind === 'cancelRace' && method !== 'CancelOrder')) continue;
      kinds.add(r.fault.kind);
      r.remaining--;
      out.push(r.fault);
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return out;
  }

  pending(): readonly FaultRule[] {
    return this.rules;
  }

  clear(): void {
    this.rules = [];
  }
}

export function validateFault(f: unknown): asserts f is Fault {
  const o = f as Record<string, unknown> | null;
  const bad = (why: string) => new Error(`kraken-sim: bad fault ${JSON.stringify(f)}: ${why}`);
  if (!o || typeof o !== 'object') throw bad('not an object');
  switch (o.kind) {
    case 'latency':
      if (typeof o.ms !== 'number' || !(o.ms >= 0) || o.ms > 600_000) throw bad('ms must be 0..600000');
      return;
    case 'drop':
      if (o.mode !== 'hangup' && o.mode !== 'hold') throw bad('mode must be hangup or hold');
      return;
    case 'http':
      if (typeof o.status !== 'number' || o.status < 500 || o.status > 599) throw bad('status must be 5xx');
      if (typeof o.afterAccept !== 'boolean') throw bad('afterAccept must be a boolean');
      return;
    case 'error':
      if (typeof o.error !== 'string' || !/^[EW][A-Za-z]+:/.test(o.error)) throw bad('error must be a Kraken error string');
      if (typeof o.afterAccept !== 'boolean') throw bad('afterAccept must be a boolean');
      return;
    case 'partialFill':
      if (typeof o.fraction !== 'number' || !(o.fraction >= 0 && o.fraction < 1)) throw bad('fraction must be in [0, 1)');
      return;
    case 'cancelRace':
      return;
    default:
      throw bad('unknown kind');
  }
}
