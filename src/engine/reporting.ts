/** Wires the analytics to the log files: `tollgate report` and the report printed after a replay. */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { JsonlFileSource } from '../adapters/jsonl/jsonl-reader.ts';
import { loadDataset, type LoadOptions } from '../analytics/dataset.ts';
import { readLogs, type ByteSource, type LogReadModel } from '../analytics/read-model.ts';
import { renderReport, type ReportFormat } from '../analytics/render.ts';
import { buildReport, type Report, type ReportOptions } from '../analytics/report.ts';
import { LOG_FILES } from '../ports/decision-log.ts';
import { InputError } from './wiring.ts';

export const REPORT_FORMATS = ['text', 'md', 'json', 'html'] as const;

const CHUNK = 4 * 1024 * 1024;

/** A log file read in 4 MiB chunks into one reused buffer (the read model copies what it keeps). */
export function fileBytes(path: string, chunkBytes = CHUNK): ByteSource {
  return {
    name: basename(path),
    exists: existsSync(path),
    *chunks() {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(chunkBytes);
        for (;;) {
          const n = readSync(fd, buf, 0, chunkBytes, null);
          if (n === 0) break;
          yield n === chunkBytes ? buf : buf.subarray(0, n);
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

function checkDir(dir: string): void {
  if (!existsSync(dir)) throw new InputError(`--logs ${dir}: no such directory`);
  if (!existsSync(join(dir, LOG_FILES.bus)) && !existsSync(join(dir, LOG_FILES.decisions))) throw new InputError(`--logs ${dir}: no ${LOG_FILES.bus} or ${LOG_FILES.decisions} there (run a replay first)`);
}

/**
 * The read model of a logs directory (what `tollgate report` and the dashboard read). With `detail`
 * (one record per decision, prices, fills: the counterfactual comparison) the Dataset of dataset.ts.
 */
export function readModelOf(dir: string, load: LoadOptions = {}): LogReadModel {
  checkDir(dir);
  const model = load.detail
    ? loadDataset({ bus: new JsonlFileSource(join(dir, LOG_FILES.bus)), decisions: new JsonlFileSource(join(dir, LOG_FILES.decisions)), shadow: new JsonlFileSource(join(dir, LOG_FILES.shadow)) }, load)
    : readLogs({ bus: fileBytes(join(dir, LOG_FILES.bus)), decisions: fileBytes(join(dir, LOG_FILES.decisions)), shadow: fileBytes(join(dir, LOG_FILES.shadow)) }, load);
  if (load.run && load.run !== 'latest' && load.run !== 'all' && model.runs.length === 0) throw new InputError(`--run ${load.run}: no such run in ${dir}`);
  return model;
}

export function reportFromLogs(dir: string, load: LoadOptions = {}, options: ReportOptions = {}): Report {
  return buildReport(readModelOf(dir, load), options);
}

export function renderFromLogs(dir: string, format: ReportFormat, load: LoadOptions = {}, options: ReportOptions = {}): string {
  return renderReport(reportFromLogs(dir, load, options), format);
}
