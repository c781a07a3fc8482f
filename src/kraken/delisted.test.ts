import { describe, expect, it } from 'vitest';
import { delistedEntry, delistedFromAnswer, delistedProblems, mergeDelisted, type Capture } from './delisted.ts';
import { closestAltnames, delistedPair, delistedRefusal, findSymbol, krakenMarkets, rawAssetPairs, replayMarkets, symbolFromKraken, UnknownPairError } from './pairs.ts';
import { krakenSnapshot, type DelistedSet, type RawAssetPair } from './snapshot.ts';
import { unknownPair as unknown } from '../../test/helpers.ts';

const snap = krakenSnapshot();
const SOURCE_0611 = { kind: 'repository', repo: 'Richierichman15/finance', path: 'kraken_pairs.json', commit: '05afb9bfab71cd128ce91fec836b7832a3e89207' };


describe('the delisted supplement', () => {
  it('when it is loaded then every entry is marked delisted with its answer’s date, status and source, and none is listed today', () => {
    const pairs = Object.entries(snap.delisted.pairs);
    expect(pairs.map(([k]) => k)).toEqual(['EOSEUR', 'EOSUSD', 'EOSUSDC', 'EOSUSDT', 'KEUR', 'KILTEUR', 'KILTUSD', 'KUJIEUR', 'KUJIUSD', 'KUSD', 'MKREUR', 'MKRUSD', 'MKRXBT', 'XAUTEUR', 'XZECXXBT']);
    for (const [key, p] of pairs) {
      expect(p.status, key).toBe('delisted');
      expect(snap.assetPairs[key], key).toBeUndefined();
      expect(p._delisted.source.kind, key).toBe('repository');
      expect(p._delisted.goneBy >= p._delisted.lastSeen, key).toBe(true);
    }
    expect(delistedProblems(snap.delisted, snap.assetPairs)).toEqual([]);
    // the facts as Kraken's answer of 2025-06-11 sent them
    expect(snap.delisted.pairs.EOSUSD).toMatchObject({ altname: 'EOSUSD', wsname: 'EOS/USD', base: 'EOS', quote: 'ZUSD', pair_decimals: 4, lot_decimals: 8, cost_decimals: 6, ordermin: '5', costmin: '0.5' });
    expect(snap.delisted.pairs.EOSUSD!._delisted).toEqual({ statusThen: 'online', lastSeen: '2025-06-11', goneBy: '2025-07-22', source: SOURCE_0611 });
    // ZEC/XBT was already cancel_only in its last answer; XAUT/EUR post_only in the 2025-09-11 one, gone by the snapshot's capture
    expect(snap.delisted.pairs.XZECXXBT!._delisted.statusThen).toBe('cancel_only');
    expect(snap.delisted.pairs.XAUTEUR!._delisted).toMatchObject({ statusThen: 'post_only', lastSeen: '2025-09-11', goneBy: snap._captured.assetPairs });
    expect(snap.delisted.pairs.XAUTEUR!._delisted.source).toMatchObject({ commit: '2dbed2c77feba784960ba938da1acab81df3ae95' });
    // MKR: still listed in the answer of 2025-07-22 (another repository's copy), gone by 2025-09-11
    expect(snap.delisted.pairs.MKRUSD!._delisted).toMatchObject({ lastSeen: '2025-07-22', goneBy: '2025-09-11', source: { repo: 'samajesteduroyaume/Kraken_Bot', commit: '0aa3ad48e6a931522b714ad3fcff63a5a1d12021' } });
  });

  it('when a delisted pair is named any Kraken way then it is found after the listed pairs, and only replayMarkets has it, with the recorded precision', () => {
    for (const [name, symbol] of [['EOSUSD_60.csv', 'EOS/USD'], ['data/MKRXBT_1440.csv.gz', 'MKR/BTC'], ['XZECXXBT', 'ZEC/BTC'], ['ZECXBT', 'ZEC/BTC'], ['kuji-usd', 'KUJI/USD'], ['XAUT/EUR', 'XAUT/EUR'], ['KUSD', 'K/USD']] as const) {
      expect(symbolFromKraken(name), name).toBe(symbol);
      expect(findSymbol(name), name).toBe(symbol);
    }
    const listed = krakenMarkets();
    const replay = replayMarkets();
    expect(listed.has('EOS/USD')).toBe(false);
    expect(replay.size).toBe(listed.size + 15);
    expect(replay.get('EOS/USD')).toMatchObject({ krakenPair: 'EOSUSD', altname: 'EOSUSD', base: 'EOS', quote: 'USD', priceDecimals: 4, lotDecimals: 8, costDecimals: 6, status: 'online' });
    const eos = replay.get('EOS/USD')!;
    expect([eos.orderMin.toFixed(), eos.costMin.toFixed(), eos.takerFee.toFixed(), eos.makerFee.toFixed()]).toEqual(['5', '0.5', '0.004', '0.0025']);
    // KUJI: Assets no longer has it, so its lot decimals are the pair's own
    expect(replay.get('KUJI/USD')).toMatchObject({ priceDecimals: 4, lotDecimals: 5, costDecimals: 8 });
    expect(replay.get('KUJI/USD')!.orderMin.toFixed()).toBe('8.5');
    expect(replay.get('MKR/USD')).toMatchObject({ priceDecimals: 1, lotDecimals: 8 });
    expect(replay.get('MKR/USD')!.orderMin.toFixed()).toBe('0.0025');
    // a listed pair is never shadowed by the supplement
    expect(replay.get('BTC/USD')).toBe(listed.get('BTC/USD'));
  });

  it('when a pair is delisted then delistedPair and delistedRefusal say so with its record, and say nothing of listed or unknown pairs', () => {
    expect(delistedPair('EOSUSD_60.csv')).toEqual({ symbol: 'EOS/USD', krakenPair: 'EOSUSD', altname: 'EOSUSD', statusThen: 'online', lastSeen: '2025-06-11', goneBy: '2025-07-22', source: SOURCE_0611 });
    expect(delistedRefusal('EOS/USD')).toBe('EOS/USD was delisted by Kraken (EOSUSD: last listed in an AssetPairs answer of 2025-06-11, gone by 2025-07-22); replay only — paper, sim and live cannot trade it');
    for (const name of ['BTC/USD', 'XBTUSD', 'BSVUSD', '', 'FOO/BAR']) {
      expect(delistedPair(name), name).toBeNull();
      expect(delistedRefusal(name), name).toBeNull();
    }
  });

  it('when a delisted-looking name has no recorded answer (BSVUSD_60.csv) then the error says what was tried, counts the delisted pairs and suggests the closest altnames', () => {
    const e = unknown('BSVUSD_60.csv');
    expect(e.tried).toEqual(['"BSVUSD_60.csv" as a Kraken file name → BSVUSD', 'BSVUSD as a Kraken pair key, altname or wsname']);
    expect(e.message).toContain(`none is one of the ${Object.keys(snap.assetPairs).length} pairs of the bundled AssetPairs snapshot (captured ${snap._captured.assetPairs}) or of its 15 delisted pairs kept for replay`);
    expect(e.suggestions).toHaveLength(3);
    expect(e.message).toContain(`closest altnames: ${e.suggestions.join(', ')}`);
    expect(e.suggestions.every((s) => /^[A-Z0-9]+ \([A-Z0-9]+\/[A-Z0-9]+(, delisted: replay only)?\)$/.test(s))).toBe(true);
  });

  it('when the closest altnames include a delisted pair then it is marked replay only', () => {
    expect(closestAltnames('EOSUSD')[0]).toBe('EOSUSD (EOS/USD, delisted: replay only)');
    expect(closestAltnames('MKRUSDD')[0]).toBe('MKRUSD (MKR/USD, delisted: replay only)');
    expect(closestAltnames('XBTUSDD')[0]).toBe('XBTUSD (BTC/USD)');
  });
});

/** two real listed entries renamed into a small synthetic AssetPairs answer */
function pair(from: string, key: string, base: string, status = 'online'): [string, RawAssetPair] {
  const p = rawAssetPairs()[from]!;
  return [key, { ...p, altname: key, wsname: `${base}/USD`, base, quote: 'ZUSD', status }];
}
const asset = (altname: string) => ({ aclass: 'currency', altname, decimals: 10, display_decimals: 5, status: 'enabled' });

describe('mergeDelisted (the refresh rule)', () => {
  const before: Capture = {
    assetPairs: Object.fromEntries([pair('STORJUSD', 'AAAUSD', 'AAA'), pair('STORJUSD', 'BBBUSD', 'BBB', 'cancel_only'), pair('STORJUSD', 'DDDUSD', 'DDD')]),
    assets: { AAA: asset('AAA'), BBB: asset('BBB'), DDD: asset('DDD'), ZUSD: asset('USD') },
    day: '2026-01-12',
  };
  const after: Capture = {
    // BBB gone; DDD still there; EEE listed again after it was delisted
    assetPairs: Object.fromEntries([pair('STORJUSD', 'AAAUSD', 'AAA'), pair('STORJUSD', 'DDDUSD', 'DDD'), pair('STORJUSD', 'EEEUSD', 'EEE')]),
    assets: { AAA: asset('AAA'), DDD: asset('DDD'), EEE: asset('EEE'), ZUSD: asset('USD') },
    day: '2026-04-01',
  };
  const older = { kind: 'repository', repo: 'o/r', path: 'p.json', commit: 'a'.repeat(40) } as const;
  const delisted: DelistedSet = {
    _source: 'test',
    pairs: {
      CCCUSD: delistedEntry(pair('STORJUSD', 'CCCUSD', 'CCC')[1], { lastSeen: '2025-06-11', goneBy: '2025-09-11', source: older }),
      EEEUSD: delistedEntry(pair('STORJUSD', 'EEEUSD', 'EEE')[1], { lastSeen: '2025-06-11', goneBy: '2025-09-11', source: older }),
    },
    assets: { CCC: asset('CCC') },
  };

  it('when a pair drops out of the live answer then it moves into the delisted set with the date it was last seen, its status then and the previous snapshot as source', () => {
    const r = mergeDelisted(before, delisted, after, 'src/kraken/kraken-asset-pairs.json.gz');
    expect(r.moved).toEqual(['BBBUSD']);
    expect(r.delisted.pairs.BBBUSD).toMatchObject({ altname: 'BBBUSD', base: 'BBB', ordermin: before.assetPairs.BBBUSD!.ordermin, status: 'delisted' });
    expect(r.delisted.pairs.BBBUSD!._delisted).toEqual({
      statusThen: 'cancel_only', lastSeen: '2026-01-12', goneBy: '2026-04-01', source: { kind: 'snapshot', file: 'src/kraken/kraken-asset-pairs.json.gz', captured: '2026-01-12' },
    });
    // its asset left Assets with it: kept as last sent
    expect(r.delisted.assets.BBB).toEqual(asset('BBB'));
    expect(delistedProblems(r.delisted, after.assetPairs)).toEqual([]);
  });

  it('when a delisted pair is listed again then it leaves the set; other delisted entries and their assets are kept as they were', () => {
    const r = mergeDelisted(before, delisted, after, 'snap.json.gz');
    expect(r.relisted).toEqual(['EEEUSD']);
    expect(Object.keys(r.delisted.pairs)).toEqual(['BBBUSD', 'CCCUSD']);
    expect(r.delisted.pairs.CCCUSD).toBe(delisted.pairs.CCCUSD);
    expect(r.delisted.assets.CCC).toEqual(asset('CCC'));
    expect(r.delisted.assets.EEE).toBeUndefined();
  });

  it('when nothing dropped out then the set is unchanged but for order', () => {
    const same = mergeDelisted(after, { _source: 'x', pairs: {}, assets: {} }, after, 'snap.json.gz');
    expect(same.moved).toEqual([]);
    expect(same.delisted.pairs).toEqual({});
  });
});

describe('delistedFromAnswer and delistedProblems', () => {
  it('when an earlier answer is compared with today’s listing then only the pairs listed under no key, altname or wsname are delisted', () => {
    const today = Object.fromEntries([pair('STORJUSD', 'AAAUSD', 'AAA')]);
    const earlier = Object.fromEntries([pair('STORJUSD', 'XAAAZUSD', 'AAA'), pair('STORJUSD', 'GONEUSD', 'GONE')]);
    // XAAAZUSD has today's altname under another key: re-keyed, not delisted
    earlier.XAAAZUSD = { ...earlier.XAAAZUSD!, altname: 'AAAUSD' };
    const found = delistedFromAnswer(earlier, today, { lastSeen: '2025-01-01', goneBy: '2025-02-01', source: { kind: 'repository', repo: 'o/r', path: 'p', commit: 'b'.repeat(40) } });
    expect(Object.keys(found)).toEqual(['GONEUSD']);
  });

  it('when an entry is listed today, lacks a field Tollgate reads or has no source then the set is refused, naming it', () => {
    const ok = delistedEntry(pair('STORJUSD', 'GONEUSD', 'GONE')[1], { lastSeen: '2025-01-01', goneBy: '2025-02-01', source: { kind: 'repository', repo: 'o/r', path: 'p', commit: 'c'.repeat(40) } });
    const { ordermin: _drop, ...noMin } = ok;
    const set: DelistedSet = {
      _source: 't',
      pairs: {
        GONEUSD: ok,
        STORJUSD: { ...ok, altname: 'STORJUSD' },
        NOMINUSD: { ...noMin, altname: 'NOMINUSD', wsname: 'NOMIN/USD' } as typeof ok,
        NOSRCUSD: { ...ok, altname: 'NOSRCUSD', wsname: 'NOSRC/USD', _delisted: { ...ok._delisted, source: { kind: 'repository', repo: 'o/r', path: 'p', commit: 'HEAD' } } },
      },
      assets: {},
    };
    expect(delistedProblems(set, rawAssetPairs())).toEqual(['delisted pair STORJUSD (STORJUSD) is listed today', 'delisted pair NOMINUSD: no ordermin', 'delisted pair NOSRCUSD: no source']);
  });
});
