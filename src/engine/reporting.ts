/** Wires the analytics to the log files: `tollgate report` and the report printed after a replay. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlFileSource } from '../adapters/jsonl/jsonl-reader.ts';
import { loadDataset, type LoadOptions } from '../analytics/dataset.ts';
import { renderReport, type ReportFormat } from '../analytics/render.ts';
import { buildReport, type Report, type ReportOptions } from '../analytics/report.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { InputError } from './wiring.ts';

export const REPORT_FORMATS = ['text', 'md', 'json', 'html'] as const;

export function reportFromLogs(dir: string, load: LoadOptions = {}, options: ReportOptions = {}): Report {
  if (!existsSync(dir)) throw new InputError(`--logs ${dir}: no such directory`);
  const src = {
    bus: new JsonlFileSource(join(dir, LOG_FILES.bus)),
    decisions: new JsonlFileSource(join(dir, LOG_FILES.decisions)),
    shadow: new JsonlFileSource(join(dir, LOG_FILES.shadow)),
  };
  if (!src.bus.exists && !src.decisions.exists) throw new InputError(`--logs ${dir}: no ${LOG_FILES.bus} or ${LOG_FILES.decisions} there (run a replay first)`);
  const ds = loadDataset(src, load);
  if (load.run && load.run !== 'latest' && load.run !== 'all' && ds.runs.length === 0) throw new InputError(`--run ${load.run}: no such run in ${dir}`);
  return buildReport(ds, options);
}

export function renderFromLogs(dir: string, format: ReportFormat, load: LoadOptions = {}, options: ReportOptions = {}): string {
  return renderReport(reportFromLogs(dir, load, options), format);
}
