/**
 * Rotation of the JSONL logs (issue 14): a replay with tiny segments reads back as the same bytes, lines and
 * report as an unrotated one; retention keeps the newest segments; a crash at any point of a rotation leaves
 * every line readable exactly once; the operational (pino) log rotates the same way.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonlWriter } from '../src/adapters/jsonl/jsonl-writer.ts';
import { RotatingFile, rotationOf, DEFAULT_ROTATE } from '../src/adapters/jsonl/rotating-file.ts';
import { compressingName, logBytes, logSegments, LogLines, segmentName, tailLines } from '../src/adapters/jsonl/segments.ts';
import { createPinoLogger } from '../src/adapters/log/pino-logger.ts';
import { readLogs } from '../src/analytics/read-model.ts';
import { buildReport, type Report } from '../src/analytics/report.ts';
import { runReplay } from '../src/engine/compose.ts';
import { reportFromLogs } from '../src/engine/reporting.ts';
import { LOG_FILES } from '../src/ports/decision-log.ts';
import { bundledSlice, defaults, tmp } from './helpers.ts';

/** chunks may be one reused buffer: each is copied when it comes */
function bytesOf(dir: string, file: string): Buffer {
  const out: Buffer[] = [];
  for (const b of logBytes(dir, file, 777).chunks()) out.push(Buffer.from(b));
  return Buffer.concat(out);
}
/** the one thing two runs of the same replay write differently: how long it took */
const sameRun = (b: Buffer | string): string => b.toString().replace(/"elapsedMs":\d+/g, '"elapsedMs":0');

/** Waits (bounded) for the writers' background compression: every segment but the newest gzipped, no .tmp. */
async function settled(dir: string, file: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const segs = logSegments(dir, file);
    const hidden = readdirSync(dir).filter((n) => n.startsWith('.'));
    if (hidden.length === 0 && segs.slice(0, -1).every((s) => s.gz && s.gzPath === null)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`compression of ${file} in ${dir} did not finish`);
}

function numbered(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += JSON.stringify({ i, pad: 'x'.repeat(40) }) + '\n';
  return s;
}

const ids = (dir: string, file: string): number[] => [...new LogLines(dir, file).lines()].filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { i: number }).i);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('a replay whose logs rotate every KiB', () => {
  const series = bundledSlice('2019-01-01', '2019-04-01');
  const plain = tmp('tollgate-rot-plain-');
  const rotated = tmp('tollgate-rot-small-');
  const runId = 'rotation-test-run';
  runReplay({ ...defaults({ logs: { rotate: false } }), series, logsDir: plain, runId });
  runReplay({ ...defaults({ logs: { rotate: { maxBytes: 1024, keep: 100_000 } } }), series, logsDir: rotated, runId });

  it('when the logs were rotated then every contract log is in many segments, the live file last', () => {
    for (const f of Object.values(LOG_FILES)) {
      expect(readdirSync(plain).filter((n) => n.startsWith(f.replace('.jsonl', '')))).toEqual([f]);
      const segs = logSegments(rotated, f);
      expect(segs.length).toBeGreaterThan(3);
      expect(segs.map((s) => s.seq)).toEqual(range(segs.length).map((i) => i + 1));
    }
  });

  it('then the segments, oldest first, gzipped or plain, hold the bytes of the unrotated run (before and after compression)', async () => {
    for (const f of Object.values(LOG_FILES)) expect(sameRun(bytesOf(rotated, f))).toBe(sameRun(readFileSync(join(plain, f))));
    for (const f of Object.values(LOG_FILES)) await settled(rotated, f);
    for (const f of Object.values(LOG_FILES)) {
      expect(sameRun(bytesOf(rotated, f))).toBe(sameRun(readFileSync(join(plain, f))));
      const segs = logSegments(rotated, f);
      expect(segs.slice(0, -1).every((s) => s.gz)).toBe(true);
      expect(segs.at(-1)!.gz).toBe(false); // the newest rotated segment stays plain
      // every segment ends at a line boundary: a line is never split
      for (const s of segs) expect(readSegment(s.path).at(-1)).toBe(10);
    }
  });

  it('then the line iterator gives the unrotated lines, and the report over the rotated logs equals the report over the unrotated ones', async () => {
    for (const f of Object.values(LOG_FILES)) {
      const want = sameRun(readFileSync(join(plain, f))).split('\n').slice(0, -1);
      expect([...new LogLines(rotated, f, 100).lines()].map(sameRun)).toEqual(want);
    }
    // perSecondProcessing is signals per second of the run's wall-clock time: the one figure two runs differ in
    const timeless = (r: Report): Report => ({ ...r, pipeline: { ...r.pipeline, throughput: { ...r.pipeline.throughput, perSecondProcessing: 0 } } });
    const over = (dir: string) => timeless(buildReport(readLogs({ bus: logBytes(dir, LOG_FILES.bus), decisions: logBytes(dir, LOG_FILES.decisions), shadow: logBytes(dir, LOG_FILES.shadow) }, { run: 'all' })));
    const want = timeless(reportFromLogs(plain, { run: 'all' }));
    expect(want.guards.some((g) => g.blocked > 0)).toBe(true);
    expect(over(rotated)).toEqual(want);
    expect(over(plain)).toEqual(want);
    // and what `tollgate report` and the dashboard call, over the rotated (and gzipped) segments
    expect(timeless(reportFromLogs(rotated, { run: 'all' }))).toEqual(want);
    expect(timeless(reportFromLogs(rotated, { run: 'all', detail: true }))).toMatchObject({ guards: want.guards });
  });

  it('then `zcat -f NAME.*` (a sorted glob) lists the segments oldest first and the live file last', () => {
    const f = LOG_FILES.decisions;
    const glob = readdirSync(rotated).filter((n) => n.startsWith('signal_decisions.')).sort();
    expect(glob.at(-1)).toBe(f);
    expect(glob.slice(0, -1)).toEqual(logSegments(rotated, f).map((s) => segmentName(f, s.seq, s.gz)));
  });
});

function readSegment(path: string): Buffer {
  const b = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(b) : b;
}

describe('retention', () => {
  it('when more segments than keep were rotated then only the newest keep remain, and what is read is the tail of what was written, from a line start', async () => {
    const dir = tmp('tollgate-rot-keep-');
    const w = new JsonlWriter(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 3 } });
    for (let i = 0; i < 500; i++) {
      w.append({ i, pad: 'x'.repeat(40) });
      if (i % 7 === 6) w.flush();
    }
    w.close();
    await w.whenIdle();
    const segs = logSegments(dir, 'x.jsonl');
    expect(segs.map((s) => s.seq)).toEqual([segs[0]!.seq, segs[0]!.seq + 1, segs[0]!.seq + 2]);
    expect(segs[0]!.seq).toBeGreaterThan(10);
    const got = ids(dir, 'x.jsonl');
    expect(got.at(-1)).toBe(499);
    expect(got).toEqual(range(500).slice(500 - got.length));
  });

  it('when a writer starts over a directory that holds more segments than keep then it deletes the oldest and compresses the plain ones', async () => {
    const dir = tmp('tollgate-rot-start-');
    for (let seq = 1; seq <= 5; seq++) writeFileSync(join(dir, segmentName('x.jsonl', seq, false)), numbered(seq * 10, seq * 10 + 10));
    const f = new RotatingFile(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1 << 20, keep: 2 } });
    await f.whenIdle();
    f.close();
    expect(readdirSync(dir).sort()).toEqual(['x.000004.jsonl.gz', 'x.000005.jsonl', 'x.jsonl']);
    expect(ids(dir, 'x.jsonl')).toEqual(range(20).map((i) => i + 40));
  });

  it('the setting: absent is 64 MiB × 10, false is never, a field left out takes its default; a bad value is refused naming the field', () => {
    expect(rotationOf(undefined)).toEqual(DEFAULT_ROTATE);
    expect(DEFAULT_ROTATE).toEqual({ maxBytes: 64 * 1024 * 1024, keep: 10 });
    expect(rotationOf(false)).toBeNull();
    expect(rotationOf({ keep: 3 })).toEqual({ maxBytes: DEFAULT_ROTATE.maxBytes, keep: 3 });
    expect(() => defaults({ logs: { rotate: { keep: 0 } } })).toThrow(/logs\.rotate\.keep/);
    expect(() => defaults({ logs: { rotate: { maxBytes: 100 } } })).toThrow(/logs\.rotate\.maxBytes/);
  });
});

describe('a crash mid-rotation leaves every line readable exactly once', () => {
  /** a rotated log of 0..n-1 with some segments gzipped, the newest plain */
  async function logOf(n: number): Promise<string> {
    const dir = tmp('tollgate-rot-crash-');
    const f = new RotatingFile(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 1000 } });
    for (let i = 0; i < n; i += 5) f.write(numbered(i, Math.min(n, i + 5)));
    f.close();
    await f.whenIdle();
    expect(ids(dir, 'x.jsonl')).toEqual(range(n));
    return dir;
  }
  const reopen = async (dir: string): Promise<void> => {
    const f = new RotatingFile(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 1000 } });
    f.write(numbered(1000, 1001));
    f.close();
    await f.whenIdle();
  };

  it('after the rename, before the new live file: no live file; the lines are read once and the next writer goes on after them', async () => {
    const dir = await logOf(200);
    const next = (logSegments(dir, 'x.jsonl').at(-1)?.seq ?? 0) + 1;
    renameSync(join(dir, 'x.jsonl'), join(dir, segmentName('x.jsonl', next, false)));
    expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
    expect(ids(dir, 'x.jsonl')).toEqual(range(200));
    await reopen(dir);
    expect(ids(dir, 'x.jsonl')).toEqual([...range(200), 1000]);
  });

  it('during a compression: a half-written hidden .gz.tmp is never read, and the next writer deletes it and compresses again', async () => {
    const dir = await logOf(200);
    const segs = logSegments(dir, 'x.jsonl');
    const s = segs[1]!;
    // undo the compression of segment 2 and leave it half done: plain segment plus a torn .tmp
    const text = readSegment(s.path);
    rmSync(s.path);
    writeFileSync(join(dir, segmentName('x.jsonl', s.seq, false)), text);
    writeFileSync(join(dir, compressingName('x.jsonl', s.seq)), gzipSync(text).subarray(0, 20));
    expect(ids(dir, 'x.jsonl')).toEqual(range(200));
    await reopen(dir);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(logSegments(dir, 'x.jsonl')[1]!.gz).toBe(true);
    expect(ids(dir, 'x.jsonl')).toEqual([...range(200), 1000]);
  });

  it('after the .gz was renamed, before the plain copy was deleted: both exist, read once; the next writer deletes the plain copy', async () => {
    const dir = await logOf(200);
    const s = logSegments(dir, 'x.jsonl')[0]!;
    writeFileSync(join(dir, segmentName('x.jsonl', s.seq, false)), readSegment(s.path));
    expect(logSegments(dir, 'x.jsonl')[0]!.gzPath).not.toBeNull();
    expect(ids(dir, 'x.jsonl')).toEqual(range(200));
    await reopen(dir);
    expect(existsSync(join(dir, segmentName('x.jsonl', s.seq, false)))).toBe(false);
    expect(ids(dir, 'x.jsonl')).toEqual([...range(200), 1000]);
  });

  it('a process killed (SIGKILL) while it rotates and compresses: every line it wrote is read once, in order, and a new writer carries on', async () => {
    const dir = tmp('tollgate-rot-kill-');
    const script = join(dir, 'writer.ts');
    mkdirSync(join(dir, 'logs'));
    writeFileSync(
      script,
      `import { JsonlWriter } from ${JSON.stringify(join(import.meta.dirname, '..', 'src/adapters/jsonl/jsonl-writer.ts'))};
const w = new JsonlWriter(${JSON.stringify(join(dir, 'logs', 'x.jsonl'))}, { rotate: { maxBytes: 1024, keep: 100000 } });
let i = 0;
const tick = () => { for (let k = 0; k < 3; k++) { w.append({ i: i++, pad: 'x'.repeat(40) }); w.flush(); } setImmediate(tick); };
tick();
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore', cwd: join(import.meta.dirname, '..') });
    for (let t = 0; t < 600 && logSegments(join(dir, 'logs'), 'x.jsonl').filter((s) => s.gz).length < 30; t++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const logs = join(dir, 'logs');
    expect(logSegments(logs, 'x.jsonl').filter((s) => s.gz).length).toBeGreaterThanOrEqual(30);
    const got = ids(logs, 'x.jsonl'); // a torn last line (killed mid-write) is not a whole record: left out
    expect(got).toEqual(range(got.length));
    const f = new RotatingFile(join(logs, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 100000 } });
    f.write(numbered(got.length, got.length + 50));
    f.close();
    await f.whenIdle();
    expect(readdirSync(logs).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(ids(logs, 'x.jsonl')).toEqual(range(got.length + 50));
  }, 60_000);

  it('a rotation while a reader is half-way through: it reads a prefix of the lines, none twice, none skipped', () => {
    const dir = tmp('tollgate-rot-read-');
    const f = new RotatingFile(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 1000 } });
    let n = 0;
    const more = (k: number) => {
      f.write(numbered(n, n + k));
      n += k;
    };
    more(100);
    const lines: string[] = [];
    let pending = '';
    let chunk = 0;
    for (const b of logBytes(dir, 'x.jsonl', 300).chunks()) {
      pending += b.toString('latin1');
      if (chunk++ % 3 === 0) more(20); // rotations between the reader's chunks: before and after it opened the live file
    }
    lines.push(...pending.split('\n').filter((l) => l.length > 0));
    f.close();
    const got = lines.map((l) => (JSON.parse(l) as { i: number }).i);
    expect(got.length).toBeGreaterThanOrEqual(100);
    expect(got).toEqual(range(got.length));
  });
});

describe('the operational log rotates the same way', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
  });

  it('when bot.jsonl passes maxBytes then it is rotated between lines, and all events read back in order from the segments', async () => {
    const dir = tmp('tollgate-rot-pino-');
    const file = join(dir, 'logs', 'bot.jsonl');
    const log = createPinoLogger({ file, pretty: false, clock: () => 0, rotate: { maxBytes: 1024, keep: 1000 } });
    opened.push(log);
    for (let i = 0; i < 200; i++) log.info('test.event', { i });
    await log.close();
    const logs = join(dir, 'logs');
    expect(logSegments(logs, 'bot.jsonl').length).toBeGreaterThan(10);
    const events = [...new LogLines(logs, 'bot.jsonl').lines()].map((l) => JSON.parse(l) as { event: string; i: number });
    expect(events.map((e) => e.i)).toEqual(range(200));
    expect(tailLines(logs, 'bot.jsonl', 30).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(range(200).slice(-30));
  });
});

describe('tail across a rotation', () => {
  it('when the live file holds fewer lines than asked then the tail reaches back into the rotated segments, gzipped ones included', async () => {
    const dir = tmp('tollgate-rot-tail-');
    const f = new RotatingFile(join(dir, 'x.jsonl'), { rotate: { maxBytes: 1024, keep: 1000 } });
    for (let i = 0; i < 300; i += 3) f.write(numbered(i, i + 3));
    f.close();
    await f.whenIdle();
    expect(logSegments(dir, 'x.jsonl').filter((s) => s.gz).length).toBeGreaterThan(2);
    const tail = (n: number) => tailLines(dir, 'x.jsonl', n).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(tail(100)).toEqual(range(300).slice(-100));
    expect(tail(5)).toEqual([295, 296, 297, 298, 299]);
    expect(tail(1000)).toEqual(range(300));
    expect(tailLines(join(dir, 'absent'), 'x.jsonl', 5)).toEqual([]);
  });
});
