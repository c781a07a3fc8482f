/** Candles for the simulator from Kraken OHLCVT files; the pair comes from the file name unless given. */
import { basename } from 'node:path';
import { loadKrakenOhlcvt, type CandleSeries } from '../adapters/csv/kraken-ohlcvt.ts';
import { closestAltnames, findSymbol, krakenMarkets, symbolFromKraken, UnknownPairError } from '../kraken/pairs.ts';

export class SimDataError extends Error {}

/** `XBTUSD_60.csv(.gz)` → BTC/USD, `STORJUSD_60.csv` → STORJ/USD; null when the name does not say */
export function pairFromFileName(file: string): string | null {
  return /^[A-Z0-9]+_\d+\.csv(\.gz)?$/i.test(basename(file)) ? findSymbol(basename(file)) : null;
}

export function loadSimSeries(files: readonly string[], pair?: string): CandleSeries[] {
  if (files.length === 0) throw new SimDataError('no data file given');
  if (pair !== undefined && files.length > 1) throw new SimDataError('--pair names the pair of a single data file; with several files the pair comes from each file name');
  const markets = krakenMarkets();
  const seen = new Set<string>();
  return files.map((file) => {
    let p: string;
    try {
      // --pair in any spelling (BTC/USD, XBTUSD, XXBTZUSD); else the file's name
      p = symbolFromKraken(pair ?? basename(file));
    } catch (e) {
      if (!(e instanceof UnknownPairError)) throw e;
      if (pair !== undefined) throw new SimDataError(e.message);
      throw new SimDataError(`cannot tell the pair from "${file}": ${e.message}; name the file like XBTUSD_60.csv or pass --pair BTC/USD`);
    }
    if (!markets.has(p)) {
      const s = closestAltnames(p);
      throw new SimDataError(`unknown pair ${p}: not a symbol of the bundled Kraken AssetPairs snapshot${s.length ? ` (closest: ${s.join(', ')})` : ''}`);
    }
    if (seen.has(p)) throw new SimDataError(`two data files for ${p}`);
    seen.add(p);
    return loadKrakenOhlcvt(file, { pair: p });
  });
}
