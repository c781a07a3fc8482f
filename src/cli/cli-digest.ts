/**
 * `tollgate digest --period day|week`: the digest of the last complete UTC day or ISO week (or the one holding
 * `--at`), from the same logs `tollgate report` reads (through the report's public functions) and, with
 * `--state`, the ledger's closed trades and the audit log's reconciliation findings and operator actions.
 * Writes DIR/digest-PERIOD-KEY.md and .json; the JSON, written last and atomically, marks the period as
 * processed: a second run says so and writes nothing unless `--force`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { logExists } from '../adapters/jsonl/segments.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import { openStateStore, shownPlace, type OpenedState } from '../adapters/state-open.ts';
import { buildDigest, DIGEST_PERIODS, lastCompletePeriod, periodOf, renderDigestMd, type DigestInputs, type DigestPeriodKind } from '../digest/digest.ts';
import { reportFromLogs } from '../engine/reporting.ts';
import { InputError } from '../engine/wiring.ts';
import { LOG_FILES } from '../ports/decision-log.ts';

function periodKind(v: string): DigestPeriodKind {
  if (!(DIGEST_PERIODS as readonly string[]).includes(v)) throw new InvalidArgumentError(`"${v}" is not a period (${DIGEST_PERIODS.join(' or ')})`);
  return v as DigestPeriodKind;
}

function utcDate(v: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`"${v}" is not a date (YYYY-MM-DD, UTC)`);
  return ms;
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export interface DigestOptions {
  readonly period: DigestPeriodKind;
  readonly at?: number;
  readonly logs: string;
  readonly state?: string;
  readonly out: string;
  readonly force: boolean;
  readonly json: boolean;
  /** the time of the digest (tests); default: the system clock */
  readonly now?: number;
}

export interface DigestRun {
  readonly status: 'written' | 'already_processed';
  readonly key: string;
  readonly files: { md: string; json: string };
  /** when the digest on disk was generated */
  readonly generatedAt: string | null;
}

export function runDigest(o: DigestOptions): DigestRun {
  const now = o.now ?? new SystemClock().now();
  const period = o.at !== undefined ? periodOf(o.period, o.at) : lastCompletePeriod(o.period, now);
  const base = join(o.out, `digest-${period.kind}-${period.key}`);
  const files = { md: `${base}.md`, json: `${base}.json` };
  if (existsSync(files.json) && !o.force) {
    let generatedAt: string | null = null;
    try {
      generatedAt = String((JSON.parse(readFileSync(files.json, 'utf8')) as { generatedAt?: string }).generatedAt);
    } catch {
      // an unreadable marker is still a marker: --force rewrites it
    }
    return { status: 'already_processed', key: period.key, files, generatedAt };
  }
  const hasLogs = logExists(o.logs, LOG_FILES.bus) || logExists(o.logs, LOG_FILES.decisions); // live or rotated
  if (!hasLogs && o.state === undefined) throw new InputError(`--logs ${o.logs}: no logs there, and no --state: nothing to digest`);
  const report = hasLogs ? reportFromLogs(o.logs, { run: 'all', since: period.from }) : null;
  const afterEnd = hasLogs ? reportFromLogs(o.logs, { run: 'all', since: period.to }) : null;
  let ledger: DigestInputs['ledger'] = null;
  let store: OpenedState | null = null;
  try {
    if (o.state !== undefined) {
      store = openStateStore(o.state, { mustExist: true });
      ledger = { snapshot: store.snapshot(), audit: [...store.audit()], reconciliation: store.guardState('reconciliation') ?? null, externalHoldings: store.externalHoldings() };
    }
  } catch (e) {
    if (e instanceof StateDbError) throw new InputError(e.message);
    throw e;
  } finally {
    store?.close();
  }
  const digest = buildDigest({ period, generatedAt: now, report, afterEnd, ledger, sources: { logs: hasLogs ? o.logs : null, state: o.state !== undefined ? shownPlace(o.state) : null } });
  try {
    mkdirSync(o.out, { recursive: true });
    writeAtomic(files.md, renderDigestMd(digest));
    writeAtomic(files.json, JSON.stringify(digest, null, 2) + '\n'); // last: the period's processed marker
  } catch (e) {
    throw new InputError(`--out ${o.out}: cannot write the digest (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { status: 'written', key: period.key, files, generatedAt: digest.generatedAt };
}

export function registerDigestCommand(program: Command): void {
  program
    .command('digest')
    .description('the digest of the last complete UTC day or ISO week: PnL, guard costs with advice, pipeline health, reconciliation findings (md + json); once per period')
    .requiredOption('--period <period>', `${DIGEST_PERIODS.join(' | ')}`, periodKind)
    .option('--at <date>', 'digest the period holding this UTC date (YYYY-MM-DD) instead of the last complete one', utcDate)
    .option('--logs <dir>', 'directory holding the JSONL logs', 'logs')
    .option('--state <file|url>', 'the state (a SQLite file or postgres://…): closed trades, reconciliation findings, operator actions')
    .option('--out <dir>', 'where the digests are written', 'digests')
    .option('--force', 'write the digest again even if this period was already processed', false)
    .option('--json', 'print the result as JSON', false)
    .action((o: { period: DigestPeriodKind; at?: number; logs: string; state?: string; out: string; force: boolean; json: boolean }) => {
      const r = runDigest(o);
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else if (r.status === 'already_processed') process.stdout.write(`digest ${o.period} ${r.key}: already processed (${r.files.json}${r.generatedAt ? `, generated ${r.generatedAt}` : ''}); --force writes it again\n`);
      else process.stdout.write(`digest ${o.period} ${r.key}: written ${r.files.md} and ${r.files.json}\n`);
    });
}
