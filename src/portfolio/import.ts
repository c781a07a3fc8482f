/**
 * Parsers for the two imports, text in, validated rows out (no I/O). Every problem names its line; one bad
 * row refuses the whole file, so an import is all or nothing.
 *
 * Portfolio CSV (header required, columns in any order; `fees`, `id`, `opened`, `cost` optional):
 *   type,asset,quantity,price,fees,id,opened,cost
 *   cash,USD,10000.50,,,,,
 *   position,BTC/USD,0.5,30000.1,12.5,btc-1,2024-01-01T00:00:00Z,15000.05
 * `cash` rows set the balance of the currency; `position` rows add positions (entry price, entry fees paid);
 * `cost`, when given, must equal quantity × price at the pair's cost decimals (a discrepancy refuses the file).
 *
 * Kraken trades export (History → Export → Trades): txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,
 * margin,misc,ledgers (quoted; later exports add columns, which are ignored). `time` is UTC
 * `YYYY-MM-DD HH:MM:SS.ffff`; `cost` = price × vol without the fee; `fee` is in the quote currency.
 */
import { Dec } from '../domain/money.ts';
import type { MarketMeta } from '../domain/types.ts';
import type { ImportInput, ImportPositionInput } from './ledger.ts';
import { LedgerRuleError } from './rules.ts';

export class ImportError extends LedgerRuleError {}

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines. Returns [line number, fields]. */
export function parseCsv(text: string, file: string): Array<[number, string[]]> {
  const out: Array<[number, string[]]> = [];
  let i = 0;
  let line = 1;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let f = '';
      if (src[i] === '"') {
        i++;
        for (;;) {
          if (i >= src.length) throw new ImportError(`${file}:${startLine}: unterminated quoted field`);
          const c = src[i]!;
          if (c === '"') {
            if (src[i + 1] === '"') { f += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (c === '\n') line++;
          f += c;
          i++;
        }
        if (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') throw new ImportError(`${file}:${line}: text after a closing quote`);
      } else {
        while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') f += src[i++];
      }
      fields.push(f);
      if (src[i] === ',') { i++; continue; }
      break;
    }
    if (src[i] === '\r') i++;
    if (src[i] === '\n') { i++; line++; }
    if (!(fields.length === 1 && fields[0]!.trim() === '')) out.push([startLine, fields]);
  }
  return out;
}

const NUMBER = /^(0|[1-9]\d*)(\.\d+)?$/;

function num(file: string, line: number, col: string, v: string | undefined, o: { optional?: boolean } = {}): string | undefined {
  const s = (v ?? '').trim();
  if (s === '' && o.optional) return undefined;
  if (!NUMBER.test(s)) throw new ImportError(`${file}:${line}: ${col} "${s}" is not an unsigned decimal number`);
  return new Dec(s).toFixed(); // normalised: 0.50000000 → 0.5
}

/** `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.fff…]` or ISO with Z, UTC → ms */
export function parseUtc(file: string, line: number, col: string, v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?Z?$/.exec(v.trim());
  const ms = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000)) : NaN;
  if (!m || Number.isNaN(ms) || +m[2]! > 12 || +m[3]! > 31) throw new ImportError(`${file}:${line}: ${col} "${v}" is not a UTC time (YYYY-MM-DD[ HH:MM:SS[.ffff]])`);
  return ms;
}

function header(rows: Array<[number, string[]]>, file: string, required: readonly string[], allowed: readonly string[] | null): Map<string, number> {
  const first = rows[0];
  if (!first) throw new ImportError(`${file}: empty file (expected a header: ${required.join(',')})`);
  const cols = new Map(first[1].map((c, i) => [c.trim().toLowerCase(), i] as const));
  for (const r of required) if (!cols.has(r)) throw new ImportError(`${file}:1: missing column "${r}" (header must name: ${required.join(', ')})`);
  if (allowed) for (const c of cols.keys()) if (!allowed.includes(c)) throw new ImportError(`${file}:1: unknown column "${c}" (allowed: ${allowed.join(', ')})`);
  return cols;
}

export type ResolvePair = (name: string) => MarketMeta | undefined;

const PORTFOLIO_COLUMNS = ['type', 'asset', 'quantity', 'price', 'fees', 'id', 'opened', 'cost'] as const;

export function parsePortfolioCsv(text: string, file: string, resolvePair: ResolvePair): ImportInput {
  const rows = parseCsv(text, file);
  const cols = header(rows, file, ['type', 'asset', 'quantity'], PORTFOLIO_COLUMNS);
  const get = (r: string[], c: string) => (cols.has(c) ? (r[cols.get(c)!] ?? '').trim() : '');
  const cash: Record<string, string> = {};
  const cashLine = new Map<string, number>();
  const positions: ImportPositionInput[] = [];
  const ids = new Map<string, number>();
  if (rows.length < 2) throw new ImportError(`${file}: no rows after the header`);
  for (const [line, r] of rows.slice(1)) {
    if (r.length !== cols.size) throw new ImportError(`${file}:${line}: ${r.length} fields, the header has ${cols.size}`);
    const type = get(r, 'type').toLowerCase();
    if (type === 'cash') {
      const ccy = get(r, 'asset').toUpperCase();
      if (!/^[A-Z][A-Z0-9]{1,9}$/.test(ccy)) throw new ImportError(`${file}:${line}: asset "${get(r, 'asset')}" is not a currency code`);
      if (cashLine.has(ccy)) throw new ImportError(`${file}:${line}: cash ${ccy} appears twice (also line ${cashLine.get(ccy)})`);
      for (const c of ['price', 'fees', 'id', 'opened', 'cost']) if (get(r, c) !== '') throw new ImportError(`${file}:${line}: a cash row has no ${c}`);
      cashLine.set(ccy, line);
      cash[ccy] = num(file, line, 'quantity', get(r, 'quantity'))!;
    } else if (type === 'position') {
      const meta = resolvePair(get(r, 'asset'));
      if (!meta) throw new ImportError(`${file}:${line}: unknown pair "${get(r, 'asset')}" (not in the bundled Kraken market metadata)`);
      const quantity = num(file, line, 'quantity', get(r, 'quantity'))!;
      const price = num(file, line, 'price', get(r, 'price'))!;
      if (new Dec(quantity).isZero()) throw new ImportError(`${file}:${line}: quantity must be greater than 0`);
      const fees = num(file, line, 'fees', get(r, 'fees'), { optional: true });
      const cost = num(file, line, 'cost', get(r, 'cost'), { optional: true });
      if (cost !== undefined) {
        const computed = new Dec(quantity).mul(price);
        if (!computed.toDecimalPlaces(meta.costDecimals, Dec.ROUND_HALF_EVEN).eq(new Dec(cost).toDecimalPlaces(meta.costDecimals, Dec.ROUND_HALF_EVEN))) {
          throw new ImportError(`${file}:${line}: discrepancy: cost ${cost} ≠ quantity × price = ${computed.toFixed()} ${meta.quote}`);
        }
      }
      const id = get(r, 'id') || undefined;
      if (id !== undefined) {
        if (ids.has(id)) throw new ImportError(`${file}:${line}: position id ${id} appears twice (also line ${ids.get(id)})`);
        ids.set(id, line);
      }
      const opened = get(r, 'opened');
      positions.push({
        pair: meta.pair, quantity, entryPrice: price,
        ...(fees !== undefined ? { fees } : {}),
        ...(id !== undefined ? { id } : {}),
        ...(opened !== '' ? { openedTs: parseUtc(file, line, 'opened', opened) } : {}),
      });
    } else {
      throw new ImportError(`${file}:${line}: type "${get(r, 'type')}" is neither cash nor position`);
    }
  }
  return { cash, positions };
}

export interface KrakenTrade {
  readonly line: number;
  readonly txid: string;
  readonly ordertxid: string;
  readonly pair: string;
  readonly ts: number;
  readonly type: 'buy' | 'sell';
  readonly ordertype: string;
  readonly price: string;
  readonly cost: string;
  readonly fee: string;
  readonly vol: string;
}

export const KRAKEN_TRADE_COLUMNS = ['txid', 'ordertxid', 'pair', 'time', 'type', 'ordertype', 'price', 'cost', 'fee', 'vol', 'margin', 'misc', 'ledgers'] as const;

/** Kraken trades, in time order (the export is newest first or oldest first depending on the request). */
export function parseKrakenTradesCsv(text: string, file: string, resolvePair: ResolvePair): KrakenTrade[] {
  const rows = parseCsv(text, file);
  const cols = header(rows, file, KRAKEN_TRADE_COLUMNS, null);
  const get = (r: string[], c: string) => (r[cols.get(c)!] ?? '').trim();
  const seen = new Map<string, number>();
  const out: KrakenTrade[] = [];
  if (rows.length < 2) throw new ImportError(`${file}: no trades after the header`);
  for (const [line, r] of rows.slice(1)) {
    if (r.length < KRAKEN_TRADE_COLUMNS.length) throw new ImportError(`${file}:${line}: ${r.length} fields, expected at least ${KRAKEN_TRADE_COLUMNS.length}`);
    const txid = get(r, 'txid');
    if (txid === '') throw new ImportError(`${file}:${line}: empty txid`);
    if (seen.has(txid)) throw new ImportError(`${file}:${line}: trade ${txid} appears twice (also line ${seen.get(txid)})`);
    seen.set(txid, line);
    const meta = resolvePair(get(r, 'pair'));
    if (!meta) throw new ImportError(`${file}:${line}: unknown pair "${get(r, 'pair')}" (not in the bundled Kraken market metadata)`);
    const type = get(r, 'type');
    if (type !== 'buy' && type !== 'sell') throw new ImportError(`${file}:${line}: type "${type}" is neither buy nor sell`);
    const margin = num(file, line, 'margin', get(r, 'margin'), { optional: true });
    if (margin !== undefined && !new Dec(margin).isZero()) throw new ImportError(`${file}:${line}: trade ${txid} used margin (${margin} ${meta.quote}); only spot trades can be imported`);
    const price = num(file, line, 'price', get(r, 'price'))!;
    const vol = num(file, line, 'vol', get(r, 'vol'))!;
    const cost = num(file, line, 'cost', get(r, 'cost'))!;
    const fee = num(file, line, 'fee', get(r, 'fee'))!;
    const computed = new Dec(vol).mul(price);
    if (!computed.toDecimalPlaces(meta.costDecimals, Dec.ROUND_HALF_EVEN).eq(new Dec(cost).toDecimalPlaces(meta.costDecimals, Dec.ROUND_HALF_EVEN))) {
      throw new ImportError(`${file}:${line}: discrepancy in trade ${txid}: cost ${cost} ≠ price × vol = ${computed.toFixed()} ${meta.quote}`);
    }
    out.push({ line, txid, ordertxid: get(r, 'ordertxid'), pair: meta.pair, ts: parseUtc(file, line, 'time', get(r, 'time')), type, ordertype: get(r, 'ordertype'), price, cost, fee, vol });
  }
  return out.sort((a, b) => a.ts - b.ts || a.line - b.line);
}
