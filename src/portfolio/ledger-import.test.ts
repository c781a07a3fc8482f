import { describe, expect, it } from 'vitest';
import { krakenMarkets } from '../kraken/pairs.ts';
import { parseCsv, parseKrakenTradesCsv, parsePortfolioCsv } from './import.ts';

const markets = krakenMarkets();
const resolve = (name: string) => markets.get(name) ?? [...markets.values()].find((m) => m.krakenPair === name || m.altname === name);
const KRAKEN_HEADER = 'txid,ordertxid,pair,time,type,ordertype,price,cost,fee,vol,margin,misc,ledgers';

describe('CSV records', () => {
  it('when fields are quoted then commas, doubled quotes and CRLF line ends are read as data, and blank lines are skipped', () => {
    expect(parseCsv('a,"b,c","say ""hi"""\r\n\r\n1,2,3\n', 'f.csv')).toEqual([[1, ['a', 'b,c', 'say "hi"']], [3, ['1', '2', '3']]]);
  });

  it('when a quote is never closed then the error names the line', () => {
    expect(() => parseCsv('a,b\n"open,c\n', 'f.csv')).toThrow(/f\.csv:2: unterminated quoted field/);
  });
});

describe('portfolio CSV', () => {
  it('when valid then cash and positions come out normalised, with Kraken pair spellings resolved', () => {
    const r = parsePortfolioCsv('type,asset,quantity,price,opened\ncash,usd,100.50,,\nposition,XXBTZUSD,0.50000000,30000.0,2024-01-02\n', 'p.csv', resolve);
    expect(r).toEqual({ cash: { USD: '100.5' }, positions: [{ pair: 'BTC/USD', quantity: '0.5', entryPrice: '30000', openedTs: Date.UTC(2024, 0, 2) }] });
  });

  it('when the file is wrong in any way then the error names the file, the line and the problem', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /p\.csv: empty file/],
      ['type,asset\ncash,USD\n', /p\.csv:1: missing column "quantity"/],
      ['type,asset,quantity,colour\n', /unknown column "colour"/],
      ['type,asset,quantity\n', /no rows after the header/],
      ['type,asset,quantity\ncash,USD,1,2\n', /p\.csv:2: 4 fields, the header has 3/],
      ['type,asset,quantity\ncash,USD,1e5\n', /p\.csv:2: quantity "1e5" is not an unsigned decimal number/],
      ['type,asset,quantity,price\nposition,FOO/BAR,1,1\n', /p\.csv:2: unknown pair "FOO\/BAR"/],
      ['type,asset,quantity,price\nposition,BTC/USD,0,1\n', /quantity must be greater than 0/],
      ['type,asset,quantity,price\nloan,USD,1,\n', /type "loan" is neither cash nor position/],
      ['type,asset,quantity,price\ncash,USD,1,5\n', /a cash row has no price/],
      ['type,asset,quantity,price,id\nposition,BTC/USD,1,1,x\nposition,ETH/USD,1,1,x\n', /p\.csv:3: position id x appears twice \(also line 2\)/],
      ['type,asset,quantity,price,opened\nposition,BTC/USD,1,1,yesterday\n', /opened "yesterday" is not a UTC time/],
    ];
    for (const [text, msg] of bad) expect(() => parsePortfolioCsv(text, 'p.csv', resolve), text).toThrow(msg);
  });
});

describe("Kraken's trades export", () => {
  it('when rows come newest first then they are returned oldest first, with times in UTC ms and extra columns ignored', () => {
    const text = `${KRAKEN_HEADER},postxid\n` +
      '"T2","O2","XETHZUSD","2024-01-02 08:30:00.5000","sell","limit",2000.50,400.10000,0.64016,0.20000000,0.00000,"","L3,L4",""\n' +
      '"T1","O1","XXBTZUSD","2024-01-01 12:00:00.0000","buy","market",50000.1,2500.00500,10.00002,0.05000000,0.00000,"","L1,L2",""\n';
    const t = parseKrakenTradesCsv(text, 't.csv', resolve);
    expect(t.map((x) => [x.txid, x.pair, x.ts, x.type, x.vol, x.price, x.fee])).toEqual([
      ['T1', 'BTC/USD', Date.UTC(2024, 0, 1, 12), 'buy', '0.05', '50000.1', '10.00002'],
      ['T2', 'ETH/USD', Date.UTC(2024, 0, 2, 8, 30, 0, 500), 'sell', '0.2', '2000.5', '0.64016'],
    ]);
  });

  it('when a row is a duplicate, a margin trade, has an unknown pair or a cost that is not price × vol then the file is refused naming the line', () => {
    const row = (o: Partial<Record<'txid' | 'pair' | 'type' | 'cost' | 'margin', string>>) =>
      `"${o.txid ?? 'T1'}","O1","${o.pair ?? 'XXBTZUSD'}","2024-01-01 12:00:00.0000","${o.type ?? 'buy'}","limit",50000.0,${o.cost ?? '500.0'},1.3,0.01,${o.margin ?? '0.0'},"",""`;
    const bad: Array<[string, RegExp]> = [
      ['txid,pair\n', /missing column "ordertxid"/],
      [`${KRAKEN_HEADER}\n${row({})}\n${row({})}\n`, /t\.csv:3: trade T1 appears twice \(also line 2\)/],
      [`${KRAKEN_HEADER}\n${row({ margin: '100' })}\n`, /t\.csv:2: trade T1 used margin/],
      [`${KRAKEN_HEADER}\n${row({ pair: 'XFOOZBAR' })}\n`, /unknown pair "XFOOZBAR"/],
      [`${KRAKEN_HEADER}\n${row({ type: 'deposit' })}\n`, /type "deposit" is neither buy nor sell/],
      [`${KRAKEN_HEADER}\n${row({ cost: '600.0' })}\n`, /t\.csv:2: discrepancy in trade T1: cost 600 ≠ price × vol = 500 USD/],
    ];
    for (const [text, msg] of bad) expect(() => parseKrakenTradesCsv(text, 't.csv', resolve), text).toThrow(msg);
  });
});
