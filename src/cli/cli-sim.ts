/**
 * `tollgate kraken-sim`: a loopback Kraken (REST, signed private calls, OHLCVT replay, fault injection)
 * for the gateway in `mode: sim`. The API secret is never printed or logged.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isBase64, loadSimSeries, SimDataError, startKrakenSim } from '../sim/index.ts';
import { isoTime } from '../domain/time.ts';
import { InputError } from '../engine/wiring.ts';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`"${v}" is not a port (0-65535; 0 = any free port)`);
  return n;
}

function pace(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 10_000) throw new InvalidArgumentError(`"${v}" is not a pace (candles per second, 0-10000)`);
  return n;
}

/** USD=10000,XBT=0 → { USD: '10000', XBT: '0' } */
export function parseBalances(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of v.split(',').filter((p) => p.trim() !== '')) {
    const m = /^\s*([A-Za-z0-9.]+)\s*=\s*(\d+(\.\d+)?)\s*$/.exec(part);
    if (!m) throw new InvalidArgumentError(`"${part}" is not ASSET=AMOUNT (e.g. USD=10000,XBT=0)`);
    out[m[1]!.toUpperCase()] = m[2]!;
  }
  return out;
}

interface SimCliOptions {
  port: number;
  data: string;
  apiKey: string;
  apiSecret: string;
  pair?: string;
  pace: number;
  balance: Record<string, string>;
  startIndex: number;
  control: boolean;
  rateLimit: boolean;
}

export function registerSimCommand(program: Command): void {
  program
    .command('kraken-sim')
    .description("a Kraken REST simulator on 127.0.0.1 replaying Kraken OHLCVT files (signed private calls, Kraken's errors, fault injection)")
    .requiredOption('--port <port>', 'port to listen on (0 = any free port)', port)
    .requiredOption('--data <files>', 'Kraken OHLCVT file(s), comma-separated, e.g. XBTUSD_60.csv,ETHUSD_60.csv.gz')
    .requiredOption('--api-key <key>', 'the API key clients must send')
    .requiredOption('--api-secret <secret>', 'the API secret (base64, as Kraken issues them)')
    .option('--pair <pair>', 'pair of a single data file as BTC/USD; default: from the file name (XBTUSD_60.csv → BTC/USD)')
    .option('--pace <candlesPerSecond>', "candles per second: the simulator's clock starts at the start candle and runs this fast (run the bot with the same --pace); 0 = only when stepped via /__sim/step", pace, 0)
    .option('--balance <list>', 'starting balances, e.g. USD=10000,XBT=0', parseBalances, { USD: '10000' } as Record<string, string>)
    .option('--start-index <n>', 'index of the first current candle', (v: string) => Math.max(0, Math.floor(Number(v)) || 0), 0)
    .option('--control', 'expose the unauthenticated /__sim/* control endpoints (faults, step, balance, state)', false)
    .option('--rate-limit', "enforce Kraken's Starter-tier REST counter (15, -0.33/s)", false)
    .action(async (o: SimCliOptions) => {
      if (!isBase64(o.apiSecret)) throw new InputError('--api-secret must be base64, as Kraken API secrets are');
      if (o.apiKey.trim() === '') throw new InputError('--api-key must not be empty');
      let series;
      try {
        series = loadSimSeries(o.data.split(',').map((f) => f.trim()).filter((f) => f !== ''), o.pair);
      } catch (e) {
        if (e instanceof SimDataError) throw new InputError(e.message);
        throw e;
      }
      let sim;
      try {
        sim = await startKrakenSim({
          apiKey: o.apiKey, apiSecret: o.apiSecret, series, port: o.port, balances: o.balance, pace: o.pace,
          startIndex: o.startIndex, control: o.control, rateLimit: o.rateLimit ? { max: 15, decayPerSec: 0.33 } : null,
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new InputError(`--port ${o.port}: cannot listen (${code})`);
        if (e instanceof Error && e.message.startsWith('kraken-sim:')) throw new InputError(e.message);
        throw e;
      }
      const pairs = series.map((s) => `${s.pair} (${s.length} candles)`).join(', ');
      const pace = sim.speed === null ? 'stepped' : `${o.pace} candles/s (its clock: ${isoTime(sim.exchange.current(series[0]!.pair).ts)}, ${sim.speed.toLocaleString('en-US')}× real time)`;
      process.stdout.write(`kraken-sim listening on ${sim.url} (websocket ${sim.wsUrl}) — ${pairs}; pace ${pace}${o.control ? '; control at /__sim/' : ''}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void sim.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
