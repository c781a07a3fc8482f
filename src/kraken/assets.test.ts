import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import {
  assetCodeCollisions, assetsAnswer, commonCode, COMMON_CURRENCIES, krakenAssetId, krakenAssets, parseBalanceKey, resolveAssetId, tradableBalances,
} from './assets.ts';
import { rawAssetPairs } from './pairs.ts';
import { krakenSnapshot } from './snapshot.ts';

const pairs = Object.values(rawAssetPairs());
const pairAssetIds = [...new Set(pairs.flatMap((p) => [p.base, p.quote]))].sort();

/** ccxt 4.5.84's kraken, fed the given Assets answer and the snapshot's AssetPairs without a network */
async function offlineCcxt(assets: Record<string, unknown>) {
  const ex = new ccxt.kraken();
  const api = ex as unknown as Record<string, unknown>;
  api.publicGetAssets = async () => ({ error: [], result: assets });
  api.publicGetAssetPairs = async () => ({ error: [], result: rawAssetPairs() });
  await ex.loadMarkets();
  return ex;
}

describe('Kraken asset ids → common codes', () => {
  it.each([
    ['XLTC', 'LTC'], ['XXRP', 'XRP'], ['XXDG', 'DOGE'], ['XXLM', 'XLM'], ['XETC', 'ETC'], ['XXMR', 'XMR'], ['XZEC', 'ZEC'],
    ['XXBT', 'BTC'], ['XETH', 'ETH'], ['XMLN', 'MLN'],
    ['ZUSD', 'USD'], ['ZEUR', 'EUR'], ['ZGBP', 'GBP'], ['ZCAD', 'CAD'], ['ZJPY', 'JPY'], ['ZAUD', 'AUD'],
    // ccxt's renames
    ['LUNA', 'LUNC'], ['LUNA2', 'LUNA'], ['UST', 'USTC'], ['REPV2', 'REP'], ['XREP', 'REPV1'], ['KFEE', 'KFEE'],
    // X or Z first but their own altname: not prefixes
    ['XTZ', 'XTZ'], ['ZRX', 'ZRX'], ['XCN', 'XCN'],
    // ids the 2023 Assets capture lacks: the wsname half (BONK/USD)
    ['BONK', 'BONK'], ['COQ', 'COQ'],
    ['SOL', 'SOL'], ['USDT', 'USDT'], ['CHF', 'CHF'],
  ])('when the Kraken id is %s then the common code is %s', (id, code) => {
    expect(commonCode(id)).toBe(code);
  });

  it('when every asset of every snapshot pair is mapped then each has a code that maps back to it, with no Kraken spelling left', () => {
    expect(pairs).toHaveLength(1434);
    expect(pairAssetIds.length).toBeGreaterThan(600);
    const known = krakenAssets();
    for (const id of pairAssetIds) {
      const a = known.get(id);
      expect(a, id).toBeDefined();
      const code = commonCode(id);
      expect(code, id).toMatch(/^[A-Z0-9]+$/);
      expect(krakenAssetId(code), `${id} → ${code} → ?`).toBe(id);
      expect(['XBT', 'XDG', 'XXBT', 'ZUSD', 'ZEUR'], id).not.toContain(code);
    }
  });

  it('when the pairs’ assets are missing from the older Assets capture then the wsname halves name them, and the Assets answer covers them', () => {
    const missing = pairAssetIds.filter((id) => !(id in krakenSnapshot().assets));
    expect(missing).toHaveLength(406);
    const answer = assetsAnswer();
    for (const id of pairAssetIds) expect(answer[id], id).toBeDefined();
    for (const p of pairs) {
      const [b, q] = p.wsname.split('/');
      expect(krakenAssets().get(p.base)!.altname, p.altname).toBe(b);
      expect(krakenAssets().get(p.quote)!.altname, p.altname).toBe(q);
      if (!krakenAssets().get(p.base)!.inAssets) expect(answer[p.base]!.decimals, p.altname).toBeGreaterThanOrEqual(p.lot_decimals);
    }
  });

  it('when all ids are mapped then no two share a code: distinct Kraken assets stay distinct (LUNA/LUNA2, REP v1/v2, spot and .M/.S variants)', () => {
    expect(assetCodeCollisions()).toEqual([]);
    const byCode = new Map<string, string[]>();
    for (const id of krakenAssets().keys()) byCode.set(commonCode(id), [...(byCode.get(commonCode(id)) ?? []), id]);
    expect([...byCode].filter(([, ids]) => ids.length > 1)).toEqual([]);
    expect(commonCode('XBT.M')).toBe('BTC.M');
    expect(commonCode('XXBT')).not.toBe(commonCode('XBT.M'));
  });

  it('when a code is looked up the other way then it gives the Kraken id; any spelling resolves with a common code first', () => {
    expect(krakenAssetId('BTC')).toBe('XXBT');
    expect(krakenAssetId('USD')).toBe('ZUSD');
    expect(krakenAssetId('LTC')).toBe('XLTC');
    expect(krakenAssetId('DOGE')).toBe('XXDG');
    expect(krakenAssetId('LUNA')).toBe('LUNA2');
    expect(krakenAssetId('LUNC')).toBe('LUNA');
    expect(krakenAssetId('REP')).toBe('REPV2');
    expect(krakenAssetId('BONK')).toBe('BONK');
    expect(krakenAssetId('XBT')).toBeNull(); // Kraken's altname, not a common code
    expect(krakenAssetId('NOSUCHCOIN')).toBeNull();
    expect(resolveAssetId('XBT')).toBe('XXBT');
    expect(resolveAssetId('xxbt')).toBe('XXBT');
    expect(resolveAssetId('ZUSD')).toBe('ZUSD');
    expect(resolveAssetId('usd')).toBe('ZUSD');
    expect(resolveAssetId('XDG')).toBe('XXDG');
    expect(resolveAssetId('LUNA')).toBe('LUNA2');
    expect(resolveAssetId('NOSUCHCOIN')).toBeNull();
  });

  it('when an id is not in the snapshot then it maps as ccxt maps it: renamed if ccxt renames it, itself otherwise', () => {
    expect(commonCode('NEWCOIN')).toBe('NEWCOIN');
    expect(commonCode('NEWCOIN.F')).toBe('NEWCOIN.F');
    expect(commonCode('XDG.F')).toBe('DOGE.F');
    expect(COMMON_CURRENCIES.XBT).toBe('BTC');
  });

  it('when ccxt 4.5.84 loads the snapshot (with the full Assets answer or only the 2023 capture) then every currency code it makes is ours', async () => {
    for (const assets of [assetsAnswer(), krakenSnapshot().assets]) {
      const ex = await offlineCcxt(assets);
      const byId = ex.currencies_by_id as unknown as Record<string, { code: string }>;
      expect(Object.keys(byId).length).toBe(Object.keys(assets).length);
      for (const [id, c] of Object.entries(byId)) expect(c.code, id).toBe(commonCode(id));
    }
  });
});

describe('balance keys and what reconciliation counts', () => {
  it.each([
    ['XXBT', 'BTC', null, 'spot', true],
    ['XBT.F', 'BTC', 'F', 'auto_earn', true],
    ['USDT.F', 'USDT', 'F', 'auto_earn', true],
    ['XBT.M', 'BTC', 'M', 'opt_in_rewards', false],
    ['ETH2.S', 'ETH2', 'S', 'staked', false],
    ['DOT28.S', 'DOT28', 'S', 'staked', false],
    ['SOL.S', 'SOL', 'S', 'staked', false],
    ['USDC.B', 'USDC', 'B', 'yield_bearing', false],
    ['DOT.P', 'DOT', 'P', 'parachain', false],
    ['EUR.HOLD', 'EUR', 'HOLD', 'on_hold', false],
    ['AAPLX.T', 'AAPLX', 'T', 'tokenized', false],
    ['XBT.Q', 'BTC', 'Q', 'unknown', false],
  ] as const)('when the balance key is %s then it is %s (suffix %s, %s), counted: %s', (key, asset, suffix, kind, tradable) => {
    expect(parseBalanceKey(key)).toEqual({ key, asset, suffix, kind, tradable });
  });

  it('when Kraken reports spot, Auto Earn, staked and held balances then the tradable ones are summed exactly per common code', () => {
    const got = tradableBalances({
      XXBT: { balance: '0.5' }, 'XBT.F': { balance: '0.25000001' }, 'XBT.M': { balance: '1' }, 'ETH2.S': { balance: '3' }, XETH: { balance: '0' },
      ZUSD: { balance: '100.1234' }, 'USD.HOLD': { balance: '7' }, XLTC: { balance: '2.0000000001' }, XXDG: '10', 'XDG.F': 5, LUNA: { balance: '1' }, LUNA2: { balance: '2' },
    });
    expect(Object.fromEntries([...got].map(([k, v]) => [k, v.toFixed()]))).toEqual({
      BTC: '0.75000001', ETH: '0', USD: '100.1234', LTC: '2.0000000001', DOGE: '15', LUNC: '1', LUNA: '2',
    });
  });

  it('when ccxt’s parsed totals are read instead then their codes are taken as they are', () => {
    const got = tradableBalances({ BTC: 0.5, 'BTC.F': 0.25, 'BTC.S': 1, LUNA: 2 }, 'common');
    expect(Object.fromEntries([...got].map(([k, v]) => [k, v.toFixed()]))).toEqual({ BTC: '0.75', LUNA: '2' });
  });

  it('when ccxt parses a BalanceEx answer then its codes are ours, suffixes included', async () => {
    const ex = await offlineCcxt(assetsAnswer());
    const keys = ['XXBT', 'XBT.F', 'XBT.M', 'ETH2.S', 'LUNA.S', 'XLTC', 'USD.HOLD', 'XDG.F', 'KFEE', 'BONK', 'XXRP', 'ZEUR'];
    const b = ex.parseBalance({ result: Object.fromEntries(keys.map((k) => [k, { balance: '1', hold_trade: '0' }])) } as never) as unknown as { total: Record<string, number> };
    expect(Object.keys(b.total).sort()).toEqual(keys.map((k) => commonCode(k)).sort());
  });
});
