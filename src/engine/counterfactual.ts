/**
 * `tollgate counterfactual --guard G`: replay the same data twice, G enforcing then G observing, and
 * compare run 1's shadow outcomes of the signals G alone blocked with what run 2 really did.
 */
import { join } from 'node:path';
import type { CandleSeries } from '../domain/candle-series.ts';
import { LogLines } from '../adapters/jsonl/segments.ts';
import { compareCounterfactual, type FidelityResult } from '../analytics/counterfactual.ts';
import { loadDataset, type Dataset } from '../analytics/dataset.ts';
import { parseConfig, type Config } from '../config/schema.ts';
import { GUARD_CODES, OPT_IN_GUARD_CODES, type BlockCode, type MarketMeta } from '../domain/types.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { runReplay } from './compose.ts';
import { InputError } from './wiring.ts';

export function withGuardMode(config: Config, code: BlockCode, mode: 'enforce' | 'observe' | 'off'): Config {
  const raw = structuredClone(config) as unknown as { guards: Record<string, { mode: string }> };
  raw.guards[code]!.mode = mode;
  return parseConfig(raw, 'config');
}

export function loadRun(dir: string, runId: string): Dataset {
  const src = (f: string) => new LogLines(dir, f); // rotated segments included
  return loadDataset({ bus: src(LOG_FILES.bus), decisions: src(LOG_FILES.decisions), shadow: src(LOG_FILES.shadow) }, { run: runId, detail: true });
}

export interface CounterfactualRun {
  readonly result: FidelityResult;
  readonly dirs: { enforce: string; observe: string };
}

export function runCounterfactual(guard: string, config: Config, markets: Map<string, MarketMeta>, series: CandleSeries, logsDir: string): CounterfactualRun {
  // every guard of the chain, the opt-in ones (TRADING_HOURS) too: those only when the config gives them
  if (!(GUARD_CODES as readonly string[]).includes(guard)) throw new InputError(`--guard ${guard}: not a guard code (${GUARD_CODES.join(', ')})`);
  const code = guard as BlockCode;
  if ((OPT_IN_GUARD_CODES as readonly string[]).includes(guard) && !(config.guards as Record<string, unknown>)[guard]) {
    throw new InputError(`--guard ${guard}: an opt-in guard that this config does not configure (add guards.${guard} to the config to compare it)`);
  }
  const dirs = { enforce: join(logsDir, `counterfactual-${code}`, 'enforce'), observe: join(logsDir, `counterfactual-${code}`, 'observe') };
  const r1 = runReplay({ config: withGuardMode(config, code, 'enforce'), markets, series, logsDir: dirs.enforce });
  const r2 = runReplay({ config: withGuardMode(config, code, 'observe'), markets, series, logsDir: dirs.observe });
  const result = compareCounterfactual(code, loadRun(dirs.enforce, r1.summary.runId), loadRun(dirs.observe, r2.summary.runId));
  return { result, dirs };
}
