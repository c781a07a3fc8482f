/** Candles for the simulator from Kraken OHLCVT files; the pair comes from the file name unless given. */
import { basename } from 'node:path';
import { loadKrakenOhlcvt, type CandleSeries } from '../csv/kraken-ohlcvt.ts';
import { bundledMarkets, symbolFromKraken } from '../market/asset-pairs.ts';

export class SimDataError extends Error {}

/** `XBTUSD_60.csv(.gz)` → BTC/USD; null when the name does not say */
export function pairFromFileName(file: string): string | null {
  const stem = /^([A-Z0-9]+)_\d+\.csv(\.gz)?$/i.exec(basename(file))?.[1];
  return stem ? symbolFromKraken(stem, bundledMarkets()) : null;
}

export function loadSimSeries(files: readonly string[], pair?: string): CandleSeries[] {
  if (files.length === 0) throw new SimDataError('no data file given');
  if (pair !== undefined && files.length > 1) throw new SimDataError('--pair names the pair of a single data file; with several files the pair comes from each file name');
  const markets = bundledMarkets();
  const seen = new Set<string>();
  return files.map((file) => {
    const p = pair ?? pairFromFileName(file);
    if (!p) throw new SimDataError(`cannot tell the pair from "${file}"; name it like XBTUSD_60.csv or pass --pair BTC/USD`);
    if (!markets.has(p)) throw new SimDataError(`unknown pair ${p}: not in the bundled Kraken AssetPairs snapshot (known: ${[...markets.keys()].join(', ')})`);
    if (seen.has(p)) throw new SimDataError(`two data files for ${p}`);
    seen.add(p);
    return loadKrakenOhlcvt(file, { pair: p });
  });
}
