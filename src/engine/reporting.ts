/** Wires the analytics to the log files: `tollgate report` and the report printed after a replay. */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename, join } from 'node:path';
import { logBytes, logExists, LogLines, logSegments } from '../adapters/jsonl/segments.ts';

/** rotation-aware log helpers for the dashboard and the HTTP face (which may import engine, not adapters) */
export { logFiles, logVersion, tailLines } from '../adapters/jsonl/segments.ts';
import { loadDataset, type LoadOptions } from '../analytics/dataset.ts';
import { reportSourceOf } from '../analytics/report-source.ts';
import type { FactFile } from '../analytics/facts.ts';
import { readLogs, type ByteSource, type LogReadModel, type ReadOptions } from '../analytics/read-model.ts';
import { factsOf, followSidecar, loadSidecar, SIDECAR_FILE, SidecarWriter, type Sidecar } from '../analytics/sidecar.ts';
import { renderReport, type ReportFormat } from '../analytics/render.ts';
import { buildReport, type Report, type ReportOptions } from '../analytics/report.ts';
import { LOG_FILES, type DecisionLog, type JsonlSink } from '../ports/decision-log.ts';
import { InputError } from './wiring.ts';

export const REPORT_FORMATS = ['text', 'md', 'json', 'html'] as const;

const CHUNK = 4 * 1024 * 1024;

/**
 * A log file as the report reads it: 4 MiB chunks into one reused buffer (the read model copies what it keeps),
 * its size, and reads at an offset (what lets the sidecar be checked and the JSONL read on from where it ends).
 * The one place a log file is opened for reading: rotated segments replace this function.
 */
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
    size: () => (existsSync(path) ? statSync(path).size : 0),
    read(offset, length) {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const n = readSync(fd, buf, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return buf.subarray(0, got);
      } finally {
        closeSync(fd);
      }
    },
  };
}

// the last gzipped segment read at an offset, unpacked (a check of the sidecar reads a few bytes of one)
let unpacked: { key: string; bytes: Buffer } | null = null;
function gzBytes(path: string): Buffer {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  if (unpacked?.key !== key) unpacked = { key, bytes: gunzipSync(readFileSync(path)) };
  return unpacked.bytes;
}

/** a gzipped segment's unpacked size, from its trailer (ISIZE: exact below 4 GiB; segments are 64 MiB by default) */
function gzSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, statSync(path).size - 4);
    return b.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}

/**
 * The log `dir/fileName` as the report reads it: its rotated segments oldest first (plain or gzipped), then the
 * live file, as one logical stream (segments.ts' logBytes), with its logical size and reads at a logical offset.
 * Rotation and compression keep every logical offset; only a deleted oldest segment moves them (the sidecar's
 * claims then fail their check and the JSONL is read instead).
 */
export function logSource(dir: string, fileName: string): ByteSource {
  const live = fileBytes(join(dir, fileName));
  if (logSegments(dir, fileName).length === 0) return live;
  const parts = () => [
    ...logSegments(dir, fileName).map((sg) => (sg.gz ? { size: () => gzSize(sg.path), read: (o: number, n: number) => gzBytes(sg.path).subarray(o, o + n) } : fileBytes(sg.path))),
    live,
  ];
  return {
    ...logBytes(dir, fileName),
    size: () => parts().reduce((a, p) => a + p.size!(), 0),
    read(offset, length) {
      const out: Buffer[] = [];
      let at = 0;
      let want = length;
      for (const p of parts()) {
        const n = p.size!();
        if (want > 0 && offset < at + n) {
          const b = p.read!(Math.max(0, offset - at), Math.min(want, at + n - offset));
          out.push(Buffer.from(b));
          offset += b.length;
          want -= b.length;
        }
        at += n;
      }
      return Buffer.concat(out);
    },
  };
}

/** The bus, decisions and shadow logs of a directory, as the report reads them. */
export function logSources(dir: string): Record<FactFile, ByteSource> {
  return { bus: logSource(dir, LOG_FILES.bus), decisions: logSource(dir, LOG_FILES.decisions), shadow: logSource(dir, LOG_FILES.shadow) };
}

/**
 * The decision log's sinks with the report's sidecar kept beside them (`report_read_model.bin`): `make`
 * builds each JSONL sink, `around` wraps each sink given to the tracker (a gate of a durable replay: what
 * it drops never reaches the sidecar either). The outcomes log is passed through: the report does not read it.
 */
export function withReadModel(dir: string, make: (name: keyof DecisionLog) => JsonlSink, around: (sink: JsonlSink) => JsonlSink = (s) => s): DecisionLog {
  const sinks = { bus: make('bus'), decisions: make('decisions'), shadow: make('shadow') }; // the writers first: they start a torn last line anew
  const sources = logSources(dir);
  const writer = new SidecarWriter({ path: join(dir, SIDECAR_FILE), sources });
  const wrap = (file: FactFile) => around(writer.wrap(file, sinks[file], () => logSource(dir, LOG_FILES[file]).size!()));
  return { bus: wrap('bus'), decisions: wrap('decisions'), shadow: wrap('shadow'), outcomes: around(make('outcomes')) };
}

// the sidecar of each logs directory read so far, followed as it grows (the dashboard asks again and again)
const sidecars = new Map<string, Sidecar>();

/** the sidecar of `dir`; `keep`: kept for the next call and followed from where it ends (reportFor: the dashboard asks again) */
function sidecarOf(dir: string, keep: boolean): Sidecar | null {
  const path = join(dir, SIDECAR_FILE);
  const had = sidecars.get(path);
  // one read once (not kept, none kept before) is loaded lazily: each file's rows decoded when the reader gets to it
  const sc = (had && followSidecar(path, had)) ?? loadSidecar(path, !keep && !had);
  if (sc && (keep || had)) sidecars.set(path, sc);
  else sidecars.delete(path);
  return sc;
}

function checkDir(dir: string): void {
  if (!existsSync(dir)) throw new InputError(`--logs ${dir}: no such directory`);
  if (!logExists(dir, LOG_FILES.bus) && !logExists(dir, LOG_FILES.decisions)) throw new InputError(`--logs ${dir}: no ${LOG_FILES.bus} or ${LOG_FILES.decisions} there (run a replay first)`);
}

/**
 * The read model of a logs directory (what `tollgate report` and the dashboard read): the sidecar's facts where
 * the JSONL bears them out, the JSONL for the rest (`sidecar: false`: the JSONL alone; the same model). With
 * `detail` (one record per decision, prices, fills: the counterfactual comparison) the Dataset of dataset.ts.
 */
/** What to read: a run and time range (LoadOptions), the dashboard's filters, and `sidecar: false` for the JSONL alone. */
export type ReportLoad = ReadOptions & { readonly sidecar?: boolean; /** keep the sidecar in memory for the next call */ readonly keep?: boolean };

export function readModelOf(dir: string, load: ReportLoad = {}): LogReadModel {
  checkDir(dir);
  let model: LogReadModel;
  if (load.detail) {
    model = reportSourceOf(loadDataset({ bus: new LogLines(dir, LOG_FILES.bus), decisions: new LogLines(dir, LOG_FILES.decisions), shadow: new LogLines(dir, LOG_FILES.shadow) }, load));
  } else {
    const sources = logSources(dir);
    const sc = load.sidecar === false ? null : sidecarOf(dir, load.keep === true);
    // a sidecar not kept for the next call is the reader's to free as it reads (a million decisions' rows)
    model = readLogs(sources, load, sc ? factsOf(sc, sources, !sidecars.has(join(dir, SIDECAR_FILE))) : undefined);
  }
  if (load.run && load.run !== 'latest' && load.run !== 'all' && model.runs.length === 0) throw new InputError(`--run ${load.run}: no such run in ${dir}`);
  return model;
}

/** The dashboard's selection of a report: a run ('latest' by default, 'all', or an id), a time range, a strategy, a pair. */
export interface ReportFilter {
  readonly run?: string;
  /** signals received (decided) at or after this time (ms) */
  readonly since?: number | null;
  /** signals received (decided) before this time (ms) */
  readonly until?: number | null;
  readonly strategy?: string | null;
  readonly pair?: string | null;
}

/** The report of a logs directory for one selection, from the sidecar where it holds (what the dashboard calls). */
export function reportFor(logsDir: string, filter: ReportFilter = {}, options: ReportOptions = {}): Report {
  return buildReport(readModelOf(logsDir, { ...filter, keep: true }), options);
}

export function reportFromLogs(dir: string, load: ReportLoad = {}, options: ReportOptions = {}): Report {
  return buildReport(readModelOf(dir, load), options);
}

export function renderFromLogs(dir: string, format: ReportFormat, load: ReportLoad = {}, options: ReportOptions = {}): string {
  return renderReport(reportFromLogs(dir, load, options), format);
}
