/**
 * The Logger port: the operational log (what the process is doing: `bot.started`, `config.summary`,
 * `recovery.done`, `reconciliation.finished`, `venue.error`, `trading.halted`, `bot.shutdown`). Decisions and
 * outcomes go to the decision log (`decision-log.ts`), not here.
 *
 * One call shape everywhere: a level, a dotted event name, structured fields, and an optional human message.
 * The methods are plain functions (they do not use `this`), so `const { info } = logger` works.
 *
 * The implementation is `adapters/log/pino-logger.ts`; `nullLogger` and `memoryLogger()` below are for code
 * that must log nowhere and for tests.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of one line (and child bindings). Keys become top-level keys of the JSONL line. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields, message?: string): void;
  debug(event: string, fields?: LogFields, message?: string): void;
  info(event: string, fields?: LogFields, message?: string): void;
  warn(event: string, fields?: LogFields, message?: string): void;
  error(event: string, fields?: LogFields, message?: string): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ component: 'gateway' }`); it shares the outputs. */
  child(bindings: LogFields): Logger;
  /** Resolves when every line logged so far is written. */
  flush(): Promise<void>;
  /** Writes what is pending and closes the outputs (shared with parent and children); later lines are dropped. */
  close(): Promise<void>;
}

/** Logs nowhere. */
export const nullLogger: Logger = Object.freeze({
  log: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
});

/** One line as `memoryLogger` keeps it: `fields` holds the child bindings first, then the line's fields. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly event: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

export interface MemoryLogger extends Logger {
  /** every line logged through this logger or its children, in order (shared by the whole tree) */
  readonly records: LogRecord[];
}

/** A logger for tests: keeps every line in `records` (no level filter, no redaction). */
export function memoryLogger(): MemoryLogger {
  const records: LogRecord[] = [];
  const state = { closed: false };
  const make = (bindings: LogFields): MemoryLogger => {
    const log = (level: LogLevel, event: string, fields?: LogFields, message?: string): void => {
      if (state.closed) return;
      const merged = { ...bindings, ...fields };
      records.push(message === undefined ? { level, event, fields: merged } : { level, event, fields: merged, message });
    };
    return {
      records,
      log,
      debug: (event, fields, message) => log('debug', event, fields, message),
      info: (event, fields, message) => log('info', event, fields, message),
      warn: (event, fields, message) => log('warn', event, fields, message),
      error: (event, fields, message) => log('error', event, fields, message),
      child: (more) => make({ ...bindings, ...more }),
      flush: () => Promise.resolve(),
      close: () => {
        state.closed = true;
        return Promise.resolve();
      },
    };
  };
  return make({});
}
