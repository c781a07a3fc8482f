/**
 * The durable-state commands of `tollgate`: db migrate|status|backup, status, buy, sell, setcash, close,
 * audit verify, import portfolio|kraken-trades. Every command goes through the same Ledger as the bot, in
 * its own transaction, so they are safe while the bot runs. A refused command (bad input, a rule, a state
 * file that cannot be used) prints one message naming the problem, exits 2 and writes nothing.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import { SystemClock } from '../adapters/clock/clocks.ts';
import { findSymbol, krakenMarkets } from '../kraken/pairs.ts';
import { StateDbError } from '../adapters/sqlite/errors.ts';
import type { StateStoreSurface } from '../adapters/postgres/state-store.ts';
import { isPostgresUrl } from '../adapters/postgres/errors.ts';
import { isPgState, openStateStore, shownPlace, stateStatus, type OpenedState } from '../adapters/state-open.ts';
import { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';
import { parseKrakenTradesCsv, parsePortfolioCsv } from '../portfolio/import.ts';
import { Ledger, LedgerRuleError, verifyAudit, type ImportCheck, type LedgerResult, type OpContext } from '../portfolio/ledger.ts';
import { MemoryLedgerStore } from '../portfolio/memory-ledger-store.ts';
import { fromRow } from '../portfolio/ledger.ts';
import { unrealizedPnl } from '../portfolio/rules.ts';
import { InputError, pairFromName } from '../engine/wiring.ts';
import { OperatorError, OperatorService, type Caller, type ControlResult } from '../operator/service.ts';
import { HoldingsError, HoldingsService, originOf, type HoldingsResult } from '../execution/holdings.ts';

export const DEFAULT_STATE = 'data/tollgate.db';

const markets = krakenMarkets();
const metaOf = (pair: string): MarketMeta | undefined => markets.get(pair);

/** A pair named any Kraken way, for the CSV importers (they report an unknown one with its line). */
function resolvePair(name: string): MarketMeta | undefined {
  const sym = findSymbol(name);
  return sym === null ? undefined : markets.get(sym);
}

function pairOf(name: string): string {
  const m = markets.get(pairFromName(name));
  if (!m) throw new InputError(`pair ${name}: not a market of the bundled snapshot`);
  return m.pair;
}

function actor(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers): keep $USER */
  }
  return `operator:${user}`;
}

/**
 * Opens the state (a SQLite file or a postgres:// URL), runs `fn`, closes it; the state and rule errors become
 * one-line input errors (exit 2).
 */
async function withStore<T>(place: string, fn: (store: OpenedState, ledger: Ledger) => T | Promise<T>, o: { mustExist?: boolean } = {}): Promise<T> {
  let store: OpenedState | null = null;
  try {
    store = openStateStore(place, o);
    return await fn(store, new Ledger(store, new SystemClock(), metaOf));
  } catch (e) {
    if (e instanceof StateDbError || e instanceof LedgerRuleError || e instanceof OperatorError || e instanceof HoldingsError) throw new InputError(e.message);
    throw e;
  } finally {
    store?.close();
  }
}

interface CommonOpts {
  state: string;
  json: boolean;
  idempotencyKey?: string;
}

/** The CLI's caller: the operator's user name, and the repeat-safe key when one was given. */
function caller(o: { idempotencyKey?: string }): Caller {
  return { actor: actor(), ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}) };
}

/** The operator service over one state file (no bot in this process: controls are kept for the bot). */
function operatorOf(store: OpenedState, ledger: Ledger): OperatorService {
  return new OperatorService({ ledger, clock: new SystemClock(), controls: store, ledgerStatus: () => statusJson(store) });
}

function print(o: CommonOpts, r: LedgerResult, human: string): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const repeat = r.repeated ? `  (repeat of idempotency key ${o.idempotencyKey}: nothing changed; this is the first result)` : '';
  process.stdout.write(`${human}${repeat}\n`);
}

function tradeLine(r: LedgerResult): string {
  const cash = Object.entries(r.cash as Record<string, string>).map(([c, v]) => `${c} cash ${v}`).join(', ');
  const closed = r.closed as { pnl: string } | null;
  return `sequence ${r.seq}: ${r.operation} ${r.pair} ${r.price ? `@ ${String(r.price)}` : ''} → position ${String(r.positionId)} ${closed ? `closed, pnl ${closed.pnl}` : `holds ${String(r.quantity)}`}; ${cash}`;
}

const stateOption = (c: Command) => c.option('--state <file|url>', 'the state: a SQLite file, or a PostgreSQL database as postgres://user:password@host:port/db', DEFAULT_STATE);
const keyOption = (c: Command) => c.option('--idempotency-key <key>', 'repeat-safe key: the same key again changes nothing and prints the first result (default: a fresh random key)');
const jsonOption = (c: Command) => c.option('--json', 'print the result as JSON', false);

export function statusJson(store: Pick<StateStoreSurface, 'snapshot' | 'externalHoldings' | 'guardState'>): Record<string, unknown> {
  const s = store.snapshot();
  const marks = new Map(s.marks.map((m) => [m.pair, m]));
  const positions = s.positions.map((row) => {
    const p = fromRow(row);
    const stored = marks.get(p.pair);
    const entryPrice = p.entryQuantity.isZero() ? new Dec(0) : p.entryCost.div(p.entryQuantity).toDecimalPlaces(12);
    const mark = stored ? new Dec(stored.price) : entryPrice;
    return {
      id: p.id, pair: p.pair, side: 'buy', quantity: p.quantity.toFixed(), entryPrice: entryPrice.toFixed(),
      unrealizedPnl: unrealizedPnl(p, mark).toFixed(), signalId: p.signalId, strategy: p.strategy, origin: originOf(p), managed: true,
      mark: mark.toFixed(), markSource: stored ? 'stored' : 'entry_price', markTs: stored ? new Date(stored.ts).toISOString() : null,
      openedAt: new Date(p.openedTs).toISOString(),
    };
  });
  const realized = Object.fromEntries(s.totals.map((t) => [t.currency, t.realized]));
  const currencies = Object.keys(realized);
  return {
    reconciliation: store.guardState('reconciliation') ?? null,
    sequence: s.sequence,
    updatedAt: s.updatedAt === null ? null : new Date(s.updatedAt).toISOString(),
    cash: Object.fromEntries(s.cash.map((c) => [c.currency, c.amount])),
    // the bot's own positions (exits sell these, the guards count these) …
    positions,
    // … and apart from them, the venue balances the bot did not buy: never sold by the bot, not its risk budget
    externalHoldings: store.externalHoldings().map((h) => ({ asset: h.asset, quantity: h.quantity, origin: h.origin, managed: h.managed, updatedAt: new Date(h.updatedTs).toISOString(), detail: h.detail })),
    // one quote currency is the normal case; with several, realizedPnl is USD's and the split is below
    realizedPnl: currencies.length === 1 ? realized[currencies[0]!] : (realized.USD ?? '0'),
    realizedPnlByCurrency: realized,
  };
}

function statusText(file: string, j: Record<string, unknown>): string {
  const positions = j.positions as Array<Record<string, string | null>>;
  const lines = [
    `state ${file} · sequence ${String(j.sequence)} · last update ${String(j.updatedAt ?? 'never')}`,
    `cash          ${Object.entries(j.cash as Record<string, string>).map(([c, v]) => `${v} ${c}`).join(', ') || '(none)'}`,
    `positions     ${positions.length}`,
  ];
  for (const p of positions) {
    const mark = p.markSource === 'stored' ? `mark ${p.mark} (last stored, ${p.markTs})` : `mark ${p.mark} (entry price: no mark stored for ${p.pair})`;
    lines.push(`  ${p.id}  ${p.pair}  ${p.quantity} @ ${p.entryPrice}  ${mark}  unrealized ${p.unrealizedPnl}  (bot-managed, ${p.origin})`);
  }
  const external = (j.externalHoldings as Array<Record<string, string>>).filter((h) => !new Dec(h.quantity!).isZero());
  lines.push(`external      ${external.length ? external.map((h) => `${h.quantity} ${h.asset}`).join(', ') : '(none)'}  — on the venue, not bought by the bot: never sold by it, not in its equity or exposure`);
  lines.push(`realized PnL  ${Object.entries(j.realizedPnlByCurrency as Record<string, string>).map(([c, v]) => `${v} ${c}`).join(', ') || '0'}`);
  const rec = j.reconciliation as { ts: number; halted: boolean; differences: Array<{ kind: string; policy: string; detail: string }> } | null;
  if (rec) {
    lines.push(`reconciled    ${new Date(rec.ts).toISOString()}: ${rec.differences.length ? `${rec.differences.length} difference(s)${rec.halted ? ' — TRADING HALTED' : ''}` : 'ledger and venue agree'}`);
    for (const x of rec.differences) lines.push(`  ${x.kind} (${x.policy}): ${x.detail}`);
  }
  return lines.join('\n');
}

function checksTable(checks: readonly ImportCheck[]): string {
  const head = ['item', 'before', 'file', 'expected', 'after', 'difference'];
  const rows = checks.map((c) => [c.item, c.before, c.file, c.expected, c.after, c.difference]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function registerStateCommands(program: Command): void {
  // ---- db ----
  const db = program.command('db').description('the state database (SQLite file or PostgreSQL): migrate, status, backup');
  stateOption(db.command('migrate').description('create the state database or bring its schema up to date'))
    .action((o: { state: string }) => withStore(o.state, (store) => {
      const h = stateStatus(store);
      process.stdout.write(`${shownPlace(o.state)}: schema version ${h.schemaVersion} (latest ${h.latestVersion})${store.migrated.length ? `, applied ${store.migrated.join(', ')}` : ', already up to date'}\n`);
    }));
  jsonOption(stateOption(db.command('status').description('schema version and counts; on SQLite also journal and sync mode, integrity check, size')))
    .action((o: { state: string; json: boolean }) => withStore(o.state, (store) => {
      const h = stateStatus(store);
      process.stdout.write(o.json ? JSON.stringify(h) + '\n' : Object.entries(h).map(([k, v]) => `${k.padEnd(14)} ${String(v)}`).join('\n') + '\n');
      if (h.integrity !== 'ok') throw new InputError(`${shownPlace(o.state)}: integrity check failed: ${h.integrity}`);
    }, { mustExist: true }));
  stateOption(db.command('backup').argument('<file>', 'destination (must not exist)').description('consistent online copy of the state database (safe while the bot writes)'))
    .action((dest: string, o: { state: string }) => {
      if (isPostgresUrl(o.state)) {
        throw new InputError(`db backup: ${shownPlace(o.state)} is a PostgreSQL state: back it up with PostgreSQL's own pg_dump (e.g. pg_dump --format=custom --file=${dest} "postgres://…"; restore with pg_restore); tollgate db backup copies SQLite files only`);
      }
      return withStore(o.state, async (store) => {
        if (isPgState(store)) throw new InputError('db backup: copies SQLite files only'); // a URL was refused above
        if (existsSync(dest)) throw new InputError(`${dest}: already exists; backup never overwrites (pick a new name, e.g. with the date)`);
        try {
          mkdirSync(dirname(resolve(dest)), { recursive: true });
        } catch (e) {
          throw new InputError(`${dest}: cannot create its directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        const r = await store.backup(dest);
        process.stdout.write(`${o.state} → ${dest}: ${r.totalPages} pages\n`);
      }, { mustExist: true });
    });

  // ---- status ----
  jsonOption(stateOption(program.command('status').description('cash, positions with unrealized PnL, sequence number, last update')))
    .action((o: { state: string; json: boolean }) => withStore(o.state, (store) => {
      const j = statusJson(store);
      process.stdout.write((o.json ? JSON.stringify(j) : statusText(shownPlace(o.state), j)) + '\n');
    }, { mustExist: true }));

  // ---- bot-managed positions vs external holdings ----
  const holdingsLine = (r: HoldingsResult) => r.command === 'manage'
    ? `sequence ${r.seq}: manage ${r.quantity} ${r.pair} → bot position ${r.positions.join(', ')} at ${r.price} (${r.priceSource}); external ${r.asset} now ${r.external}${r.repeated ? '  (repeat of the idempotency key: nothing changed)' : ''}`
    : `sequence ${r.seq}: unmanage ${r.quantity} ${r.pair} from ${r.positions.join(', ')}; external ${r.asset} now ${r.external}${r.repeated ? '  (repeat of the idempotency key: nothing changed)' : ''}`;
  // one shape for both: PAIR QTY, an option of their own, --reason; through the HoldingsService the Bot uses too
  const holdingsCommand = (name: 'manage' | 'unmanage', qtyHelp: string, description: string, own: [string, string]) =>
    jsonOption(keyOption(stateOption(program.command(name)
      .argument('<pair>', 'pair, e.g. BTC/USD or XBTUSD')
      .argument('<qty>', qtyHelp)
      .description(description)
      .option(...own)
      .option('--reason <text>', 'why, for the audit log'))))
      .action((pair: string, qty: string, o: CommonOpts & { price?: string; position?: string; reason?: string }) => withStore(o.state, (store, ledger) => {
        const h = new HoldingsService({ ledger, store, clock: new SystemClock() });
        const c = { pair: pairOf(pair), quantity: qty, ...(o.reason !== undefined ? { reason: o.reason } : {}) };
        const r = name === 'manage'
          ? h.manage(caller(o), { ...c, ...(o.price !== undefined ? { price: o.price } : {}) })
          : h.unmanage(caller(o), { ...c, ...(o.position ? { positionId: o.position } : {}) });
        process.stdout.write((o.json ? JSON.stringify(r) : holdingsLine(r)) + '\n');
      }, { mustExist: true }));
  holdingsCommand('manage', 'base quantity of the external holdings to adopt', 'adopt external holdings (venue balance the bot did not buy) into a bot-managed position; audited',
    ['--price <price>', 'entry price of the adopted quantity (default: the current mark of the pair, stated in the answer)']);
  holdingsCommand('unmanage', 'base quantity of the bot-managed positions to release', 'release bot-managed quantity to external holdings: the bot never sells it from then on; audited',
    ['--position <id>', "release from this position only (default: the pair's operator-managed positions, newest first)"]);

  // ---- operator trades ----
  for (const side of ['buy', 'sell'] as const) {
    jsonOption(keyOption(stateOption(program.command(side)
      .argument('<pair>', 'pair, e.g. BTC/USD or XBTUSD')
      .argument('<amount>', 'base quantity, within the pair\'s lot decimals')
      .argument('[price]', 'price in the quote currency (default: the last stored mark of the pair)')
      .description(side === 'buy' ? 'record an operator buy: cash falls by amount × price + fee, the pair\'s operator position grows' : 'record an operator sell from the pair\'s operator position (or --position)')
      .option('--fee <fee>', 'fee paid, in the quote currency', '0')
      .option('--position <id>', 'position to add to / sell from (default: manual-<PAIR>)')
      .option('--reason <text>', 'why, for the audit log'))))
      .action((pair: string, amount: string, price: string | undefined, o: CommonOpts & { fee: string; position?: string; reason?: string }) => withStore(o.state, (store, ledger) => {
        const input = { pair: pairOf(pair), quantity: amount, fee: o.fee, ...(price !== undefined ? { price } : {}), ...(o.position ? { positionId: o.position } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) };
        const op = operatorOf(store, ledger);
        const r = side === 'buy' ? op.buy(caller(o), input) : op.sell(caller(o), input);
        print(o, r, tradeLine(r));
      }));
  }

  jsonOption(keyOption(stateOption(program.command('setcash')
    .argument('<amount>', 'new cash balance')
    .description('set a cash balance (deposit, withdrawal, correction); the reason goes to the audit log')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--currency <ccy>', 'currency', 'USD'))))
    .action((amount: string, o: CommonOpts & { reason: string; currency: string }) => withStore(o.state, (store, ledger) => {
      const r = operatorOf(store, ledger).setCash(caller(o), { currency: o.currency, amount, reason: o.reason });
      print(o, r, `sequence ${r.seq}: ${String(r.currency)} cash ${String(r.before)} → ${String(r.after)}`);
    }));

  jsonOption(keyOption(stateOption(program.command('close')
    .argument('<position>', 'position id (see tollgate status)')
    .description('sell the whole position at --price (default: the last stored mark)')
    .option('--price <price>', 'exit price')
    .option('--fee <fee>', 'fee paid, in the quote currency', '0')
    .option('--reason <text>', 'why, for the audit log'))))
    .action((position: string, o: CommonOpts & { price?: string; fee: string; reason?: string }) => withStore(o.state, (store, ledger) => {
      const r = operatorOf(store, ledger).close(caller(o), { positionId: position, fee: o.fee, ...(o.price !== undefined ? { price: o.price } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) });
      print(o, r, tradeLine(r));
    }));

  // ---- controls: pause/resume entries, guard modes (kept in the state; a running bot follows them) ----
  const controlLine = (r: ControlResult) => {
    const what = r.command === 'guard_mode' ? `guard ${r.guard!.code}: ${r.guard!.from} → ${r.guard!.to}` : r.command === 'pause' ? `entries paused (${r.paused?.reason ?? ''})` : 'entries resumed';
    return `sequence ${r.seq}: ${what}${r.repeated ? '  (repeat of the idempotency key: nothing changed)' : ''}; a bot on this state follows it within seconds, or at its next start`;
  };
  const printControl = (o: { json: boolean }, r: ControlResult): void => void process.stdout.write((o.json ? JSON.stringify(r) : controlLine(r)) + '\n');
  jsonOption(keyOption(stateOption(program.command('pause')
    .description('pause new entries: signals are still decided and shadowed (blocked by ENTRIES_PAUSED); exits and working orders carry on')
    .requiredOption('--reason <text>', 'why (required, for the audit log)'))))
    .action((o: CommonOpts & { reason: string }) => withStore(o.state, (store, ledger) => printControl(o, operatorOf(store, ledger).pause(caller(o), o.reason)), { mustExist: true }));
  jsonOption(keyOption(stateOption(program.command('resume')
    .description('resume new entries')
    .option('--reason <text>', 'why, for the audit log', 'resumed by the operator'))))
    .action((o: CommonOpts & { reason: string }) => withStore(o.state, (store, ledger) => printControl(o, operatorOf(store, ledger).resume(caller(o), o.reason)), { mustExist: true }));
  const guard = program.command('guard').description("the guards: list them, switch one's mode");
  jsonOption(stateOption(guard.command('list').description('every guard in evaluation order and the mode kept by the operator (null: the config decides)')))
    .action((o: { state: string; json: boolean }) => withStore(o.state, (store, ledger) => {
      const list = operatorOf(store, ledger).guards();
      process.stdout.write((o.json ? JSON.stringify(list) : list.map((g) => `${g.code.padEnd(20)} ${g.mode ?? '(config)'}`).join('\n')) + '\n');
    }, { mustExist: true }));
  jsonOption(keyOption(stateOption(guard.command('set')
    .argument('<code>', 'guard code, e.g. COOLDOWN')
    .argument('<mode>', 'enforce | observe | off')
    .description("switch a guard's mode from the next decision on (kept in the state; audited)")
    .requiredOption('--reason <text>', 'why (required, for the audit log)'))))
    .action((code: string, mode: string, o: CommonOpts & { reason: string }) => withStore(o.state, (store, ledger) => printControl(o, operatorOf(store, ledger).setGuardMode(caller(o), code.toUpperCase(), mode, o.reason)), { mustExist: true }));

  // ---- audit ----
  const audit = program.command('audit').description('the append-only audit log');
  jsonOption(stateOption(audit.command('verify').description('replay the audit log from an empty ledger and compare with the stored state; reports the first mismatch')))
    .action((o: { state: string; json: boolean }) => withStore(o.state, (store) => {
      const integrity = stateStatus(store).integrity; // PostgreSQL keeps its own: 'ok'
      const r = verifyAudit(store, metaOf, () => new MemoryLedgerStore());
      if (o.json) process.stdout.write(JSON.stringify({ ...r, integrity }) + '\n');
      if (integrity !== 'ok') throw new InputError(`${shownPlace(o.state)}: SQLite integrity check failed: ${integrity}`);
      if (!r.ok) {
        if (!o.json) process.stderr.write(`tollgate: audit verify: MISMATCH after ${r.rows} rows: ${r.mismatch}\n`);
        throw new CommanderError(1, 'tollgate.auditMismatch', r.mismatch ?? 'mismatch');
      }
      if (!o.json) process.stdout.write(`audit verify: ok — ${r.rows} rows replayed from an empty ledger give the stored state (sequence ${r.sequence}, no gaps)\n`);
    }, { mustExist: true }));

  // ---- import ----
  const imp = program.command('import').description('bring an existing portfolio or Kraken trade history into the ledger (all or nothing)');
  jsonOption(keyOption(stateOption(imp.command('portfolio')
    .argument('<file>', 'CSV: type,asset,quantity,price[,fees,id,opened,cost] (see README)')
    .description('set cash and add positions from a CSV, with a before/after validation summary; any bad row or discrepancy refuses the whole file'))))
    .action((file: string, o: CommonOpts) => withStore(o.state, (store, ledger) => {
      const input = parsePortfolioCsv(readText(file), file, resolvePair);
      const r = operatorOf(store, ledger).importPortfolio(caller(o), input, `import portfolio ${file}`);
      print(o, r, `sequence ${r.seq}: imported ${Object.keys(input.cash).length} cash balances and ${input.positions.length} positions from ${file}\n${checksTable(r.checks as ImportCheck[])}`);
    }));

  jsonOption(stateOption(imp.command('kraken-trades')
    .argument('<file>', "Kraken's trades export (txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers)")
    .description('apply Kraken trades to the operator positions (manual-<PAIR>) and cash, oldest first, in one transaction; a trade already imported (same txid) is skipped')))
    .action((file: string, o: { state: string; json: boolean }) => withStore(o.state, (store, ledger) => {
      const trades = parseKrakenTradesCsv(readText(file), file, resolvePair);
      const before = store.snapshot();
      const who = `import:kraken-trades:${actor().slice('operator:'.length)}`;
      const results = ledger.batch(() => trades.map((t) => {
        const input = { pair: t.pair, quantity: t.vol, price: t.price, fee: t.fee, ts: t.ts };
        const c: OpContext = { actor: who, key: `kraken-trade:${t.txid}`, reason: `Kraken trade ${t.txid} (order ${t.ordertxid}, ${t.ordertype})` };
        try {
          return t.type === 'buy' ? ledger.buy(input, c) : ledger.sell(input, c);
        } catch (e) {
          if (e instanceof LedgerRuleError) throw new LedgerRuleError(`${file}:${t.line}: trade ${t.txid}: ${e.message}; nothing was imported`);
          throw e;
        }
      }));
      const after = store.snapshot();
      const applied = results.filter((r) => !r.repeated).length;
      const summary = { trades: trades.length, applied, alreadyImported: trades.length - applied, sequenceBefore: before.sequence, sequenceAfter: after.sequence,
        cashBefore: Object.fromEntries(before.cash.map((c) => [c.currency, c.amount])), cashAfter: Object.fromEntries(after.cash.map((c) => [c.currency, c.amount])) };
      process.stdout.write(o.json ? JSON.stringify(summary) + '\n'
        : `${file}: ${trades.length} trades, ${applied} applied, ${summary.alreadyImported} already imported; sequence ${before.sequence} → ${after.sequence}; cash ${JSON.stringify(summary.cashBefore)} → ${JSON.stringify(summary.cashAfter)}\n`);
    }));
}
