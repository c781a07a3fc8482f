/**
 * The operational logger on pino (ARCHITECTURE rule 8: logs are data). Every line is one JSON object:
 *
 *   {"level":"info","ts":"2024-05-01T12:00:00.000Z","schemaVersion":1,...base,...bindings,"event":"bot.started",...fields,"msg":"..."}
 *
 * - `ts` is the injected clock's time in ISO 8601 UTC (rule 2: this file never reads the wall clock).
 * - Sensitive keys (`REDACT_PATHS`) are censored by pino's `redact`; every exact value in `secrets` is masked
 *   inside any string (message, fields and bindings at any depth, error messages and stacks).
 * - Errors anywhere in the fields are written as `{ type, message, stack, ...own fields }`.
 * - Field names the line itself uses (`level`, `ts`, `schemaVersion`, `event`, `msg`) are written with a
 *   leading underscore (`_level`), so a field can never overwrite or duplicate them.
 * - Every destination is synchronous: a line is written when the call returns, so a crash loses nothing and
 *   flush has nothing to wait for.
 * - The file is rotated by size, between lines, with retention (`rotate`, default 64 MiB × 10 kept): the same
 *   rotation and segment names as the contract logs (adapters/jsonl/rotating-file.ts), so `bot.jsonl` is
 *   followed with `tail -F` and read back with `zcat -f logs/bot.*`. Not pino-roll: it writes from a worker
 *   thread (a crash loses what it had not written yet), names the live file by number (`tail -F` loses it)
 *   and does not compress; not pm2-logrotate: it copies and truncates (a line written in between is lost),
 *   rotates only pm2's own out/err files, and does nothing under systemd.
 *
 * Human output (pino-pretty) is a view over the same lines, written to stderr when `pretty` is on.
 */
import pino, { type DestinationStream, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import { isoTime } from '../../domain/time.ts';
import { LOG_LEVELS, type LogFields, type LogLevel, type Logger } from '../../ports/logger.ts';
import type { RotateOptions } from '../../ports/line-source.ts';
import { SystemClock } from '../clock/clocks.ts';
import { DEFAULT_ROTATE, RotatingFile } from '../jsonl/rotating-file.ts';

export const SCHEMA_VERSION = 1;
export const REDACTED = '[redacted]';

/** pino `redact` paths: credentials by key name, at the top level and one level down, and request headers. */
export const REDACT_PATHS: readonly string[] = [
  'apiKey',
  'apiSecret',
  'secret',
  'password',
  'token',
  'authorization',
  'credentials',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.password',
  '*.token',
  '*.credentials',
  'headers.authorization',
  'headers.cookie',
  'headers["API-Key"]',
  'headers["API-Sign"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** The levels `level` accepts: a log level, or `silent` (nothing is written). */
export const LOG_THRESHOLDS: readonly LevelWithSilent[] = [...LOG_LEVELS, 'silent'];

/** `--log-level` → a pino level; anything else throws naming the value and the valid ones. Case is ignored. */
export function parseLogLevel(value: string): LevelWithSilent {
  const v = value.trim().toLowerCase();
  const found = LOG_THRESHOLDS.find((l) => l === v);
  if (found === undefined) throw new Error(`invalid log level ${JSON.stringify(value)}: use one of ${LOG_THRESHOLDS.join(', ')}`);
  return found;
}

export interface PinoLoggerOptions {
  /** JSONL file, appended to; the file and its directory are created (e.g. `logs/bot.jsonl`) */
  file?: string;
  /** size-based rotation of `file` with retention; default DEFAULT_ROTATE (64 MiB, 10 kept); null: never */
  rotate?: RotateOptions | null;
  /** the lowest level written, to every output (`--log-level`); default `info` */
  level?: string;
  /** also write readable lines to stderr through pino-pretty; default: whether stderr is a terminal */
  pretty?: boolean;
  /** without `pretty`: also write the JSON lines to stderr; default false */
  stderr?: boolean;
  /** where the stderr output (pretty or JSON) goes instead of the process's stderr (tests); never closed here */
  prettyDestination?: NodeJS.WritableStream;
  /** event time, epoch ms (the bot's injected clock); default the system clock */
  clock?: () => number;
  /** exact values (API key, API secret, tokens) masked as `[redacted]` wherever they appear in a string */
  secrets?: readonly string[];
  /** fields on every line (e.g. `{ mode: 'live', pid }`) */
  base?: LogFields;
}

export function createPinoLogger(options: PinoLoggerOptions = {}): Logger {
  const level = parseLogLevel(options.level ?? 'info');
  const clock = options.clock ?? defaultClock();
  const prepare = preparer(options.secrets ?? []);

  const human = options.prettyDestination;
  const humanIsTty = ((human ?? process.stderr) as { isTTY?: boolean }).isTTY === true;
  const usePretty = options.pretty ?? humanIsTty;

  // pino writes one whole line per write: the file rotates between lines
  const file = options.file === undefined ? undefined : new RotatingFile(options.file, { rotate: options.rotate === undefined ? DEFAULT_ROTATE : options.rotate, mkdir: true });
  const streams: DestinationStream[] = [];
  if (file !== undefined) streams.push({ write: (line: string) => file.write(line) });
  if (usePretty) {
    streams.push(
      pretty({
        destination: human ?? 2,
        sync: true,
        colorize: humanIsTty,
        messageKey: 'msg',
        timestampKey: 'ts',
        translateTime: 'UTC:yyyy-mm-dd HH:MM:ss.l',
        messageFormat: (line, messageKey) => {
          const event = String(line.event ?? '');
          const msg = line[messageKey];
          return msg === undefined ? event : `${event}  ${String(msg)}`;
        },
        ignore: 'schemaVersion,event',
        singleLine: true,
        errorLikeObjectKeys: ['err', 'error'],
      }),
    );
  } else if (options.stderr === true) {
    streams.push(human === undefined ? pino.destination({ dest: 2, sync: true }) : (human as DestinationStream));
  }

  const streamLevel = level === 'silent' ? 'fatal' : level; // a silent logger writes nothing anyway
  const destination: DestinationStream =
    streams.length === 0 ? { write: () => {} } : streams.length === 1 ? streams[0]! : pino.multistream(streams.map((stream) => ({ level: streamLevel, stream })));

  const root = pino(
    {
      level,
      base: { schemaVersion: SCHEMA_VERSION, ...(prepare(safeKeys(options.base ?? {})) as LogFields) },
      messageKey: 'msg',
      timestamp: () => `,"ts":"${isoTime(clock())}"`,
      formatters: { level: (label) => ({ level: label }) },
      // errors are already plain objects (prepare); pino's own err serializer would rename their type
      serializers: { err: (v: unknown) => v },
      // base and child bindings are prepared where they are made (pino applies no formatter to child bindings)
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(prepare) as Parameters<typeof method>);
        },
      },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    destination,
  );

  const state = { closed: false };
  const close = async (): Promise<void> => {
    if (state.closed) return;
    state.closed = true;
    if (file === undefined) return;
    file.close();
    await file.whenIdle();
  };

  const wrap = (p: pino.Logger): Logger => {
    const log = (lvl: LogLevel, event: string, fields?: LogFields, message?: string): void => {
      if (!LEVEL_SET.has(lvl)) throw new Error(`invalid log level ${JSON.stringify(lvl)}: use one of ${LOG_LEVELS.join(', ')}`);
      if (state.closed || !p.isLevelEnabled(lvl)) return;
      const obj = { event, ...safeKeys(fields ?? {}) };
      if (message === undefined) p[lvl](obj);
      else p[lvl](obj, message);
    };
    return {
      log,
      debug: (event, fields, message) => log('debug', event, fields, message),
      info: (event, fields, message) => log('info', event, fields, message),
      warn: (event, fields, message) => log('warn', event, fields, message),
      error: (event, fields, message) => log('error', event, fields, message),
      child: (bindings) => wrap(p.child(prepare(safeKeys(bindings)) as pino.Bindings)),
      flush: () => Promise.resolve(), // every destination is synchronous
      close,
    };
  };
  return wrap(root);
}

const LEVEL_SET: ReadonlySet<string> = new Set(LOG_LEVELS);

function defaultClock(): () => number {
  const system = new SystemClock();
  return () => system.now();
}

/** Keys of the line itself; a field with one of these names is written as `_<name>`. */
const RESERVED: ReadonlySet<string> = new Set(['level', 'ts', 'schemaVersion', 'event', 'msg']);

function safeKeys(fields: LogFields): Record<string, unknown> {
  if (!Object.keys(fields).some((k) => RESERVED.has(k))) return fields as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[RESERVED.has(k) ? `_${k}` : k] = v;
  return out;
}

/** Deeper than pino prints (its depthLimit is 5), so nothing printed is left unprepared. */
const MAX_DEPTH = 10;

/**
 * What every argument and binding goes through before pino sees it: Errors (at any depth) become plain
 * objects, and each secret value is masked inside every string. Unchanged values are returned as they are
 * (no copy); the caller's objects are never modified.
 */
function preparer(secrets: readonly string[]): (value: unknown) => unknown {
  const list = [...new Set(secrets.filter((s) => s.trim().length > 0))].sort((a, b) => b.length - a.length);
  const mask =
    list.length === 0
      ? (s: string) => s
      : (s: string) => {
          let out = s;
          for (const secret of list) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
          return out;
        };

  const walk = (v: unknown, depth: number, ancestors: Set<object>): unknown => {
    if (typeof v === 'string') return mask(v);
    if (v === null || typeof v !== 'object') return v;
    if (ancestors.has(v)) return '[Circular]';
    if (depth > MAX_DEPTH) return '[Object]';
    let source: object = v;
    if (v instanceof Error) source = plainError(v);
    else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      const json: unknown = (v as { toJSON: () => unknown }).toJSON();
      if (json !== v) return walk(json, depth, ancestors);
    }
    ancestors.add(v);
    try {
      if (Array.isArray(source)) {
        let out: unknown[] | null = null;
        source.forEach((x: unknown, i) => {
          const y = walk(x, depth + 1, ancestors);
          if (y !== x) (out ??= [...(source as unknown[])])[i] = y;
        });
        return out ?? source;
      }
      let out: Record<string, unknown> | null = source === v ? null : (source as Record<string, unknown>);
      for (const [k, x] of Object.entries(source)) {
        const y = walk(x, depth + 1, ancestors);
        if (y !== x) (out ??= { ...(source as Record<string, unknown>) })[k] = y;
      }
      return out ?? source;
    } finally {
      ancestors.delete(v);
    }
  };
  return (value) => walk(value, 0, new Set());
}

/** An Error as pino writes one (type, message and stack with causes, own fields), as a plain object. */
function plainError(e: Error): Record<string, unknown> {
  const s = pino.stdSerializers.err(e) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in s) if (k !== 'raw' && s[k] !== undefined) out[k] = s[k];
  return out;
}
