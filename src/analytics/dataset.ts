/**
 * The analytics' only input: the JSONL logs, parsed and joined by signal. Everything the reports say
 * is recomputed from here, so it can be recomputed after the fact from the files an operator keeps.
 * Malformed or torn lines (a crash mid-write) are skipped and counted per file, never fatal.
 */
import type { LineSource } from '../ports/line-source.ts';

export interface RunInfo {
  readonly runId: string;
  readonly startedTs: number;
  readonly mode: string | null;
  readonly pair: string | null;
  readonly from: number | null;
  readonly to: number | null;
  /** sum of the starting cash (one quote currency per run) */
  readonly startingBalance: number | null;
  readonly guardModes: Readonly<Record<string, string>>;
  finishedTs: number | null;
  elapsedMs: number | null;
}

export interface DecisionRec {
  readonly runId: string;
  readonly signalId: string;
  readonly ts: number;
  readonly strategy: string;
  readonly pair: string;
  readonly side: string;
  readonly decision: 'approved' | 'blocked';
  readonly blockedBy: readonly string[];
  readonly observedBlocks: readonly string[];
  readonly quantity: string | null;
}

export interface ShadowRec {
  readonly runId: string;
  readonly signalId: string;
  readonly ts: number;
  readonly strategy: string;
  readonly pair: string;
  readonly blockedBy: readonly string[];
  readonly status: string;
  readonly decidedTs: number | null;
  readonly entryTs: number | null;
  /** price, exit reason and fee fields are null unless loaded with `detail` */
  readonly entryPrice: string | null;
  readonly exitTs: number | null;
  readonly exitPrice: string | null;
  readonly exitReason: string | null;
  readonly quantity: string;
  readonly fees: string | null;
  readonly pnl: string;
  readonly overlaps: boolean;
  /** it bought something (closed or open at the end, quantity > 0) */
  readonly bought: boolean;
}

export interface TradeRec {
  readonly runId: string;
  readonly signalId: string;
  readonly strategy: string;
  readonly pair: string;
  readonly entryTs: number;
  readonly entryPrice: string;
  readonly exitTs: number;
  readonly exitPrice: string;
  readonly exitReason: string;
  readonly quantity: string;
  readonly fees: string;
  readonly pnl: string;
}

export interface FillRec {
  readonly ts: number;
  readonly purpose: string;
  readonly quantity: string;
  readonly price: string;
}

export interface LifeRec {
  receivedTs: number | null;
  /** the state it is in (its last transition) and since when */
  state: string;
  ts: number;
  terminal: boolean;
  openAtEnd: boolean;
}

export interface Dataset {
  /** runs included, in start order */
  readonly runs: RunInfo[];
  /**
   * keyed by `runId|signalId` (signal ids are deterministic, so they repeat across runs). Without
   * `detail`, only the decisions the report needs one by one are kept (approved ones an observing guard
   * would have blocked); the rest is counted below.
   */
  readonly decisions: Map<string, DecisionRec>;
  readonly decisionCounts: { approved: number; blocked: number };
  readonly byStrategy: Map<string, { signals: number; approved: number; blocked: number }>;
  /** per guard: blocked decisions without a shadow outcome line (all, and those it alone blocked) */
  readonly awaiting: Map<string, { all: number; sole: number }>;
  blockedWithoutOutcome: number;
  readonly shadows: Map<string, ShadowRec>;
  readonly trades: Map<string, TradeRec>;
  readonly life: Map<string, LifeRec>;
  /** event time spent in a state before leaving it, per state (ms), over every transition read */
  readonly timeInState: Map<string, number[]>;
  /** fills per signal (key as above), in log order */
  readonly fills: Map<string, FillRec[]>;
  /** signal keys with a fill on a candle, by `runId|pair|candle ts` (volume shared within a candle) */
  readonly fillsAt: Map<string, Set<string>>;
  /** when each signal's entry and exit orders were submitted (detail only) */
  readonly submits: Map<string, { entry?: number; exit?: number }>;
  readonly busErrors: number;
  readonly warnings: Record<string, number>;
  /** malformed lines skipped, per file */
  readonly skipped: Record<string, number>;
  /** duplicate lines for the same signal (the later one wins), per file */
  readonly duplicates: Record<string, number>;
  firstTs: number | null;
  lastTs: number | null;
}

export interface LoadOptions {
  /** keep every decision, prices and fills one by one (the counterfactual comparison needs them) */
  readonly detail?: boolean;
  /** 'latest' (default): the last run that started in signal_bus.jsonl; 'all'; or a run id */
  readonly run?: string;
  /** keep only signals received (decided) at or after this time */
  readonly since?: number | null;
}

export interface LogSources {
  readonly bus: LineSource;
  readonly decisions: LineSource;
  readonly shadow: LineSource;
}

export const keyOf = (runId: string, signalId: string) => `${runId}|${signalId}`;

/** Thrown by a record handler: the line is counted as skipped. */
export class Malformed extends Error {}

const isStr = (v: unknown): v is string => typeof v === 'string';
function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new Malformed(k);
  return v;
}
function optStr(o: Record<string, unknown>, k: string): string | null {
  const v = o[k];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Malformed(k);
  return v;
}
/** `YYYY-MM-DDTHH:MM:SS.sssZ` (what the tracker writes) without Date.parse; anything else goes to Date.parse. */
export function parseIso(v: string): number {
  if (v.length === 24 && v.charCodeAt(10) === 84 /* T */ && v.charCodeAt(23) === 90 /* Z */ && v.charCodeAt(19) === 46 /* . */) {
    return isoFromParts(digits(v, 0, 4), digits(v, 5, 2), digits(v, 8, 2), digits(v, 11, 2), digits(v, 14, 2), digits(v, 17, 2), digits(v, 20, 3));
  }
  return Date.parse(v);
}

/** The time of `YYYY-MM-DDTHH:MM:SS.sssZ` from its numbers (NaN for a non-digit), or NaN when out of range. */
export function isoFromParts(y: number, mo: number, day: number, h: number, mi: number, sec: number, ms: number): number {
  if (mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 && mi <= 59 && sec <= 59) {
    const t = Date.UTC(y, mo - 1, day, h, mi, sec, ms);
    // Date.UTC rolls 2021-02-30 over to March: refuse instead
    if (!Number.isNaN(t) && Math.floor(t / 86_400_000) === Math.floor(Date.UTC(y, mo - 1, day) / 86_400_000) && monthOf(t) === mo) return t;
  }
  return NaN;
}

function digits(v: string, i: number, n: number): number {
  let x = 0;
  for (let j = i; j < i + n; j++) {
    const c = v.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return NaN;
    x = x * 10 + c;
  }
  return x;
}

/** 1..12, from days since the epoch (civil-from-days, proleptic Gregorian) */
function monthOf(t: number): number {
  const z = Math.floor(t / 86_400_000) + 719468;
  const doe = z - Math.floor(z / 146097) * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return mp < 10 ? mp + 3 : mp - 9;
}

function time(o: Record<string, unknown>, k: string): number {
  const t = parseIso(str(o, k));
  if (Number.isNaN(t)) throw new Malformed(k);
  return t;
}
function optTime(o: Record<string, unknown>, k: string): number | null {
  const s = optStr(o, k);
  if (s === null) return null;
  const t = parseIso(s);
  if (Number.isNaN(t)) throw new Malformed(k);
  return t;
}
function codes(o: Record<string, unknown>, k: string): string[] {
  const v = o[k];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isStr)) throw new Malformed(k);
  return v;
}
function decimal(o: Record<string, unknown>, k: string): string {
  const v = str(o, k);
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new Malformed(k);
  return v;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * A copy of a substring that does not keep its parent alive: V8 slices of 13+ characters point into
 * the string they were cut from (here a whole 4 MiB chunk of the file), so keeping a field would keep
 * the chunk. JSON.parse builds a fresh string.
 */
const fresh = (v: string): string => (v.length < 13 ? v : (JSON.parse(`"${v}"`) as string));

/**
 * Fast path for our own lines (the big files): pick the wanted top-level fields without building the
 * whole object (a decision line's 12-guard array is most of its bytes). Used only when the line ends
 * with `"runId":"…"}` — the tracker writes runId last, and inside a JSON string every quote is
 * escaped, so that ending proves the line is complete — and when every value is simple (string
 * without escapes, null, boolean, array of such strings). Anything else returns null: JSON.parse decides.
 */
/** `"runId":"<no quote or backslash>"}` at the very end, checked from the end (no scan of the line). */
function endsWithRunId(line: string): boolean {
  const n = line.length;
  if (n < 12 || line.charCodeAt(n - 1) !== 125 /* } */ || line.charCodeAt(n - 2) !== 34 /* " */) return false;
  const at = line.lastIndexOf('"runId":"', n - 3);
  if (at < 0) return false;
  for (let i = at + 9; i < n - 2; i++) {
    const c = line.charCodeAt(i);
    if (c === 34 || c === 92) return false;
  }
  return true;
}

export function pickFields(line: string, keys: readonly string[], tailKeys: ReadonlySet<string> = NO_KEYS): Record<string, unknown> | null {
  if (line.charCodeAt(0) !== 123 /* { */ || !endsWithRunId(line)) return null;
  const out: Record<string, unknown> = {};
  let from = 0;
  for (const k of keys) {
    // keys are unique in the line; listed in the writer's order they are found in one pass, and those
    // written after a long array are found from the end
    const pat = `"${k}":`;
    let at = tailKeys.has(k) ? line.lastIndexOf(pat) : line.indexOf(pat, from);
    if (at < 0 && from > 0 && !tailKeys.has(k)) at = line.indexOf(pat);
    if (at < 0) continue;
    const i = at + k.length + 3;
    from = i;
    const c = line.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = line.indexOf('"', i + 1);
      const v = line.slice(i + 1, end);
      if (end < 0 || v.includes('\\')) return null;
      out[k] = fresh(v);
    } else if (c === 91 /* [ */) {
      const end = line.indexOf(']', i);
      if (end < 0) return null;
      const body = line.slice(i + 1, end);
      if (body.length === 0) out[k] = [];
      else {
        const items = body.split(',');
        for (let j = 0; j < items.length; j++) {
          const it = items[j]!;
          if (it.length < 2 || it.charCodeAt(0) !== 34 || it.charCodeAt(it.length - 1) !== 34 || it.includes('\\') || it.indexOf('"', 1) !== it.length - 1) return null;
          items[j] = fresh(it.slice(1, -1));
        }
        out[k] = items;
      }
    } else if (line.startsWith('null', i)) out[k] = null;
    else if (line.startsWith('true', i)) out[k] = true;
    else if (line.startsWith('false', i)) out[k] = false;
    else return null; // numbers and objects: not needed on the fast path
  }
  return out;
}

/** Parse each non-empty line; malformed ones are counted, the handler's own Malformed errors too. */
/**
 * One log line to `handle` as an object (its `keys` picked without a full parse where the line allows it):
 * false when it is not a JSON object or `handle` threw Malformed (the caller counts it as skipped).
 */
export function handleRecord(line: string, keys: readonly string[] | null, tail: ReadonlySet<string> | undefined, handle: (o: Record<string, unknown>) => void): boolean {
  let o: unknown = keys ? pickFields(line, keys, tail) : null;
  if (o === null) {
    try {
      o = JSON.parse(line);
    } catch {
      return false;
    }
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  try {
    handle(o as Record<string, unknown>);
    return true;
  } catch (e) {
    if (e instanceof Malformed) return false;
    throw e;
  }
}

function eachRecord(src: LineSource, skipped: Record<string, number>, keep: (line: string) => boolean, handle: (o: Record<string, unknown>) => void, fast?: { keys: readonly string[]; tail: ReadonlySet<string> }): void {
  let bad = 0;
  for (const line of src.lines()) {
    if (line.length === 0 || !keep(line)) continue;
    if (!handleRecord(line, fast ? fast.keys : null, fast?.tail, handle)) bad++;
  }
  if (bad) skipped[src.name] = (skipped[src.name] ?? 0) + bad;
}

/** Which run ids to keep: one pass over signal_bus.jsonl's run.started lines. */
function selectRuns(bus: LineSource, run: string): Set<string> | null {
  if (run === 'all') return null;
  if (run !== 'latest') return new Set([run]);
  let last: string | null = null;
  for (const line of bus.lines()) {
    if (!line.includes('"run.started"')) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o.event === 'run.started' && isStr(o.runId)) last = o.runId;
    } catch {
      /* counted in the main pass */
    }
  }
  return last === null ? null : new Set([last]);
}

// the tracker writes a decision's guards array in the middle: the fields after it are looked up from the end
const DECISION_KEYS = {
  keys: ['ts', 'signalId', 'strategy', 'pair', 'side', 'decision', 'blockedBy', 'observedBlocks', 'quantity', 'runId'],
  tail: new Set(['runId', 'blockedBy', 'observedBlocks', 'quantity']),
};
const SHADOW_KEYS = {
  keys: ['ts', 'signalId', 'strategy', 'pair', 'blockedBy', 'status', 'decidedTs', 'entryTs', 'entryPrice', 'exitTs', 'exitPrice', 'exitReason', 'quantity', 'fees', 'pnl', 'overlaps', 'runId'],
  tail: NO_KEYS,
};

export function loadDataset(src: LogSources, opts: LoadOptions = {}): Dataset {
  const strings = new Map<string, string>();
  const intern = (v: string): string => strings.get(v) ?? (strings.set(v, v), v);
  const codeLists = new Map<string, readonly string[]>();
  const internCodes = (xs: string[]): readonly string[] => {
    const k = xs.join(',');
    return codeLists.get(k) ?? (codeLists.set(k, xs.map(intern)), codeLists.get(k)!);
  };
  const runsWanted = selectRuns(src.bus, opts.run ?? 'latest');
  const detail = opts.detail ?? false;
  const since = opts.since ?? null;
  // lines end with `"runId":"…"}`: other runs are skipped without parsing
  const suffixes = runsWanted ? [...runsWanted].map((r) => `"runId":"${r}"}`) : null;
  const keep = (line: string) => {
    if (!suffixes) return true;
    for (const s of suffixes) if (line.endsWith(s)) return true;
    // a complete line of another run is skipped unparsed; anything else (torn, foreign) is parsed and judged
    return !endsWithRunId(line);
  };
  // a line without a run id is malformed (counted); one of another run is simply not wanted
  const wanted = (runId: unknown): runId is string => {
    if (!isStr(runId)) throw new Malformed('runId');
    return runsWanted === null || runsWanted.has(runId);
  };
  const ds: Dataset = {
    runs: [], decisions: new Map(), decisionCounts: { approved: 0, blocked: 0 }, byStrategy: new Map(), awaiting: new Map(), blockedWithoutOutcome: 0,
    shadows: new Map(), trades: new Map(), life: new Map(), timeInState: new Map(), fills: new Map(), fillsAt: new Map(), submits: new Map(),
    busErrors: 0, warnings: {}, skipped: {}, duplicates: {}, firstTs: null, lastTs: null,
  };
  const errors = { bus: 0 };
  const runs = new Map<string, RunInfo>();
  const seen = (ts: number) => {
    if (ds.firstTs === null || ts < ds.firstTs) ds.firstTs = ts;
    if (ds.lastTs === null || ts > ds.lastTs) ds.lastTs = ts;
  };
  const dup = (file: string) => (ds.duplicates[file] = (ds.duplicates[file] ?? 0) + 1);
  // with --since, signals received earlier are left out as their lines come
  const before = since === null ? null : new Set<string>();
  const lifeOf = (key: string, ts: number): LifeRec | null => {
    if (before?.has(key)) return null;
    let l = ds.life.get(key);
    if (!l) ds.life.set(key, (l = { receivedTs: null, state: 'received', ts, terminal: false, openAtEnd: false }));
    return l;
  };

  eachRecord(src.bus, ds.skipped, keep, (o) => {
    if (!wanted(o.runId)) return;
    const runId = o.runId;
    const ev = str(o, 'event');
    const ts = time(o, 'ts');
    seen(ts);
    switch (ev) {
      case 'run.started': {
        const cash = o.startingCash && typeof o.startingCash === 'object' ? Object.values(o.startingCash as Record<string, unknown>) : [];
        runs.set(runId, {
          runId, startedTs: ts, mode: optStr(o, 'mode'), pair: optStr(o, 'pair'), from: optTime(o, 'from'), to: optTime(o, 'to'),
          startingBalance: cash.length ? cash.reduce<number>((a, v) => a + Number(v), 0) : null,
          guardModes: o.guards && typeof o.guards === 'object' ? (o.guards as Record<string, string>) : {},
          finishedTs: null, elapsedMs: null,
        });
        break;
      }
      case 'run.finished': {
        const r = runs.get(runId);
        if (r) {
          r.finishedTs = ts;
          const s = o.summary as Record<string, unknown> | undefined;
          r.elapsedMs = typeof s?.elapsedMs === 'number' ? s.elapsedMs : null;
        }
        break;
      }
      case 'signal.received': {
        const key = keyOf(runId, str(o, 'signalId'));
        if (before && ts < since!) {
          before.add(key);
          ds.life.delete(key);
          break;
        }
        const l = lifeOf(key, ts);
        if (l) l.receivedTs = ts;
        break;
      }
      case 'signal.transition': {
        const to = str(o, 'to');
        const l = lifeOf(keyOf(runId, str(o, 'signalId')), ts);
        if (!l) break;
        const spent = ds.timeInState.get(l.state) ?? ds.timeInState.set(l.state, []).get(l.state)!;
        spent.push(ts - l.ts);
        l.state = to;
        l.ts = ts;
        if (o.terminal === true) l.terminal = true;
        break;
      }
      case 'signal.open_at_end': {
        const l = lifeOf(keyOf(runId, str(o, 'signalId')), ts);
        if (l) l.openAtEnd = true;
        break;
      }
      case 'trade.closed': {
        const key = keyOf(runId, str(o, 'signalId'));
        if (ds.trades.has(key)) dup(src.bus.name);
        ds.trades.set(key, {
          runId, signalId: str(o, 'signalId'), strategy: intern(str(o, 'strategy')), pair: intern(str(o, 'pair')),
          entryTs: time(o, 'entryTs'), entryPrice: decimal(o, 'entryPrice'), exitTs: time(o, 'exitTs'), exitPrice: decimal(o, 'exitPrice'),
          exitReason: str(o, 'exitReason'), quantity: decimal(o, 'quantity'), fees: decimal(o, 'fees'), pnl: decimal(o, 'pnl'),
        });
        break;
      }
      case 'order.submitted': {
        if (!detail) break;
        const key = keyOf(runId, str(o, 'signalId'));
        const sub = ds.submits.get(key) ?? ds.submits.set(key, {}).get(key)!;
        const purpose = str(o, 'purpose');
        if (purpose === 'entry' || purpose === 'exit') sub[purpose] ??= ts; // the first: retries keep the start
        break;
      }
      case 'fill': {
        if (!detail) break;
        const key = keyOf(runId, str(o, 'signalId'));
        const f: FillRec = { ts, purpose: str(o, 'purpose'), quantity: decimal(o, 'quantity'), price: decimal(o, 'price') };
        (ds.fills.get(key) ?? ds.fills.set(key, []).get(key)!).push(f);
        const at = `${runId}|${str(o, 'pair')}|${ts}`;
        (ds.fillsAt.get(at) ?? ds.fillsAt.set(at, new Set()).get(at)!).add(key);
        break;
      }
      case 'bus.error':
        errors.bus++;
        break;
      case 'warning': {
        const code = str(o, 'code');
        ds.warnings[code] = (ds.warnings[code] ?? 0) + 1;
        break;
      }
      default:
        break;
    }
  });

  eachRecord(src.shadow, ds.skipped, keep, (o) => {
    if (!wanted(o.runId)) return;
    if (typeof o.overlaps !== 'boolean') throw new Malformed('overlaps');
    const status = intern(str(o, 'status'));
    const quantity = decimal(o, 'quantity');
    // one fixed shape, repeated values shared: 700,000 of these must stay small
    const rec: ShadowRec = {
      runId: o.runId, signalId: str(o, 'signalId'), ts: time(o, 'ts'), strategy: intern(str(o, 'strategy')), pair: intern(str(o, 'pair')),
      blockedBy: internCodes(codes(o, 'blockedBy')), status, decidedTs: optTime(o, 'decidedTs'),
      entryTs: optTime(o, 'entryTs'), exitTs: optTime(o, 'exitTs'), quantity, pnl: decimal(o, 'pnl'), overlaps: o.overlaps,
      bought: (status === 'closed' || status === 'open_at_end') && /[1-9]/.test(quantity),
      entryPrice: detail ? optStr(o, 'entryPrice') : null,
      exitPrice: detail ? optStr(o, 'exitPrice') : null,
      exitReason: detail ? optStr(o, 'exitReason') : null,
      fees: detail ? decimal(o, 'fees') : null,
    };
    if (since !== null && (rec.decidedTs ?? rec.entryTs ?? rec.ts) < since) return;
    const key = keyOf(rec.runId, rec.signalId);
    if (ds.shadows.has(key)) dup(src.shadow.name);
    ds.shadows.set(key, rec);
  }, SHADOW_KEYS);

  // after the shadow outcomes: a blocked decision without one is counted as awaiting its outcome
  const seenDecisions = new Set<string>();
  eachRecord(src.decisions, ds.skipped, keep, (o) => {
    if (!wanted(o.runId)) return;
    const decision = o.decision;
    if (decision !== 'approved' && decision !== 'blocked') throw new Malformed('decision');
    const rec: DecisionRec = {
      runId: o.runId, signalId: str(o, 'signalId'), ts: time(o, 'ts'), strategy: str(o, 'strategy'), pair: str(o, 'pair'), side: str(o, 'side'),
      decision, blockedBy: codes(o, 'blockedBy'), observedBlocks: codes(o, 'observedBlocks'), quantity: optStr(o, 'quantity'),
    };
    if (since !== null && rec.ts < since) return;
    const key = keyOf(rec.runId, rec.signalId);
    if (seenDecisions.has(key)) {
      dup(src.decisions.name); // the later line wins for the one-by-one record; counts keep the first
      if (ds.decisions.has(key)) ds.decisions.set(key, rec);
      return;
    }
    seenDecisions.add(key);
    ds.decisionCounts[decision]++;
    const st = ds.byStrategy.get(rec.strategy) ?? ds.byStrategy.set(rec.strategy, { signals: 0, approved: 0, blocked: 0 }).get(rec.strategy)!;
    st.signals++;
    st[decision]++;
    if (decision === 'blocked' && !ds.shadows.has(key)) {
      ds.blockedWithoutOutcome++;
      for (const code of rec.blockedBy) {
        const a = ds.awaiting.get(code) ?? ds.awaiting.set(code, { all: 0, sole: 0 }).get(code)!;
        a.all++;
        if (rec.blockedBy.length === 1) a.sole++;
      }
    }
    if (detail || (decision === 'approved' && rec.observedBlocks.length > 0)) ds.decisions.set(key, rec);
  }, DECISION_KEYS);


  if (since !== null) {
    for (const [key, l] of ds.life) if ((l.receivedTs ?? l.ts) < since) ds.life.delete(key);
    for (const [key, t] of ds.trades) if (!ds.life.has(key) && (before!.has(key) || t.entryTs < since)) ds.trades.delete(key);
  }
  ds.runs.push(...[...runs.values()].sort((a, b) => a.startedTs - b.startedTs));
  return { ...ds, busErrors: errors.bus };
}

/** flags of read-model.ts' columns: a shadow outcome's, a lifecycle's */
export const SH_OVERLAPS = 1;
export const SH_BOUGHT = 2;
export const LIFE_TERMINAL = 1;
export const LIFE_OPEN_AT_END = 2;
