/** The Kraken simulator: a loopback Kraken REST API over replayed OHLCVT candles, with fault injection. */
export { KrakenSim, startKrakenSim, DEFAULT_FILL, type KrakenSimOptions, type PrivateCall } from './server.ts';
export { fault, type Fault, type FaultRule } from './faults.ts';
export { KrakenError, SimExchange, type SimOrder, type SimTrade, type AddOrderParams } from './exchange.ts';
export { isBase64, krakenSignature, type RateLimitOptions } from './auth.ts';
export { loadSimSeries, pairFromFileName, SimDataError } from './data.ts';
export { TXID } from './ids.ts';
