/**
 * Sim mode on recorded data: the replay kernel trades through real ccxt, with signed requests, against
 * the Kraken simulator replaying the same candles — the same code path as live, stepped in lockstep:
 *
 *   open:   deadlines at the open are cancelled; the simulator moves to candle i (orders accepted during
 *           candle i − 1 fill at its open, with the paper fill model); the venue polls the fills;
 *   close:  deadlines at the close are cancelled on the simulator;
 *   rest:   strategies, guards, exits, new signals — then their submits reach the simulator.
 *
 * Documented difference from the paper venue: the shadow engine's acceptance check does not see the
 * simulator's holds of working orders (it asks the paper venue's rules with the ledger's cash).
 */
import { randomBytes } from 'node:crypto';
import { SystemClock } from '../adapters/clock/clocks.ts';
import type { CandleSeries } from '../domain/candle-series.ts';
import { krakenClient } from '../adapters/kraken/client.ts';
import { KrakenVenue, type KrakenApi } from '../adapters/kraken/kraken-venue.ts';
import { startKrakenSim, type KrakenSim } from '../sim/index.ts';
import { PaperVenue } from '../adapters/paper/paper-venue.ts';
import type { Config } from '../config/schema.ts';
import type { MarketMeta } from '../domain/types.ts';
import { delistedRefusal } from '../kraken/pairs.ts';
import { InputError } from '../engine/wiring.ts';
import { runReplayAsync, type ReplayOptions, type ReplayResult } from '../engine/compose.ts';

export interface SimReplayResult extends ReplayResult {
  readonly venueStats: KrakenVenue['stats'];
  /** what the simulator holds at the end, by asset (for reconciliation with the ledger) */
  readonly simBalances: Record<string, string>;
  /** AddOrder calls the simulator received and orders it holds */
  readonly simOrders: number;
  readonly simAddOrderCalls: number;
}

/**
 * A simulator replaying `series` for a sim-mode replay: the config's starting cash and fill model, and
 * order and trade times on the simulator's current candle, as the paper venue stamps its fills.
 */
export async function startReplaySim(series: CandleSeries, config: Config, markets: Map<string, MarketMeta>, apiKey: string, secret: string, nonceWindow = 0): Promise<{ sim: KrakenSim; apiKey: string; secret: string }> {
  const meta = markets.get(series.pair);
  let clockSim: KrakenSim | null = null;
  const sim = await startKrakenSim({
    apiKey, apiSecret: secret, series: [series], markets,
    balances: { ...config.startingCash, ...(meta ? { [meta.base]: '0' } : {}) },
    fill: { slippageBps: config.venue.slippageBps, maxVolumeShare: config.venue.maxVolumeShare },
    clock: { now: () => (clockSim ? clockSim.exchange.current(series.pair).ts : series.ts[0] ?? 0) },
    nonceWindow,
  });
  clockSim = sim;
  return { sim, apiKey, secret };
}

export interface SimReplayOptions extends Omit<ReplayOptions, 'venue' | 'durable'> {
  /** a simulator already running on the same candles (tests inject faults into it); default: one started here */
  readonly sim?: { readonly sim: KrakenSim; readonly apiKey: string; readonly secret: string };
  /** the key's nonce window (simulator and client; default 0): order calls go beside the calls in flight (krakenClient) */
  readonly nonceWindow?: number;
}

/** The simulator serves the pairs Kraken lists today: a delisted pair (replay only) is refused before anything is written. */
export function assertSimReplayable(pair: string): void {
  const gone = delistedRefusal(pair);
  if (gone) throw new InputError(`${gone}; the simulator serves the pairs Kraken lists today: replay it with --venue paper`);
}

export async function runSimReplay(opts: SimReplayOptions & { config: Config; markets: Map<string, MarketMeta>; series: CandleSeries }): Promise<SimReplayResult> {
  const { series, config } = opts;
  assertSimReplayable(series.pair);
  const meta = opts.markets.get(series.pair);
  let own: KrakenSim | null = null;
  let creds = opts.sim;
  if (!creds) {
    // throwaway credentials for a simulator that lives as long as this run; never printed
    creds = await startReplaySim(series, config, opts.markets, randomBytes(24).toString('base64url'), randomBytes(64).toString('base64'), opts.nonceWindow);
    own = creds.sim;
  }
  const { sim } = creds;
  const { exchange } = krakenClient({ apiKey: creds.apiKey, secret: creds.secret, baseUrl: sim.url, rateLimit: false, clock: new SystemClock(), nonceWindow: opts.nonceWindow ?? 0 });
  await exchange.loadMarkets();
  let venue: KrakenVenue | null = null;
  try {
    const result = await runReplayAsync(
      {
        ...opts,
        venue: (deps, fillModel) => {
          venue = new KrakenVenue({ api: exchange as unknown as KrakenApi, clock: deps.clock, meta: deps.meta, secrets: [creds!.apiKey, creds!.secret], lastPrice: deps.lastPrice });
          const checker = new PaperVenue(fillModel, deps); // minimums, market status and funds, as the shadow engine asks
          return { venue, check: (o) => checker.check(o) };
        },
      },
      (i) => ({
        // deadlines at the open are cancelled on the venue, then the simulator matches candle i's open
        open: async () => {
          await venue!.idle();
          if (i > 0) sim.step(1);
          await venue!.poll();
        },
        // deadlines at the close: the cancels land (and partly filled entries open) before exits are checked
        close: () => venue!.idle(),
        // the candle's submits reach the simulator while it still shows candle i
        done: () => venue!.idle(),
      }),
    );
    const v = venue as unknown as KrakenVenue;
    const simBalances = Object.fromEntries(Object.entries(sim.exchange.balances()).map(([k, b]) => [k, b.balance.toFixed()]));
    return { ...result, venueStats: v.stats, simBalances, simOrders: sim.orders().length, simAddOrderCalls: sim.calls['AddOrder'] ?? 0 };
  } finally {
    if (own) await own.stop();
  }
}
