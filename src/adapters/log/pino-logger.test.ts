import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tmp } from '../../../test/helpers.ts';
import type { Logger } from '../../ports/logger.ts';
import { createPinoLogger, type PinoLoggerOptions } from './pino-logger.ts';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const SECRET = 'kR4k3n-s3cr3t/Value+==';

/** A writable that keeps what was written (the stderr stand-in). */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

function lines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const open: Logger[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

/** A logger to a fresh file, with a fixed clock and no human output unless asked. */
function fileLogger(options: PinoLoggerOptions = {}): { log: Logger; file: string } {
  const file = join(tmp('tollgate-log-'), 'logs', 'bot.jsonl');
  const log = createPinoLogger({ file, clock: () => T0, pretty: false, ...options });
  open.push(log);
  return { log, file };
}

describe('the operational log file', () => {
  it('when an event is logged then one JSON line lands in the file (directory created) with schemaVersion, ts, level label, event, fields and msg', () => {
    const { log, file } = fileLogger();
    log.info('bot.started', { mode: 'paper', pairs: ['BTC/USD'] }, 'tollgate started');
    // synchronous destination: the line is on disk when the call returns, before any await
    expect(lines(file)).toEqual([
      { level: 'info', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, event: 'bot.started', mode: 'paper', pairs: ['BTC/USD'], msg: 'tollgate started' },
    ]);
  });

  it('when no message is given then the line has no msg, and base fields are on every line', () => {
    const { log, file } = fileLogger({ base: { app: 'tollgate', release: '0.1.0' } });
    log.warn('trading.halted', { reason: 'reconciliation' });
    expect(lines(file)).toEqual([
      { level: 'warn', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, app: 'tollgate', release: '0.1.0', event: 'trading.halted', reason: 'reconciliation' },
    ]);
  });

  it('when the file already has lines then a new logger appends to it and never rewrites', async () => {
    const { log, file } = fileLogger();
    log.info('bot.started');
    await log.close();
    const again = createPinoLogger({ file, clock: () => T0 + 1, pretty: false });
    open.push(again);
    again.info('bot.started');
    expect(lines(file).map((l) => l.ts)).toEqual(['2024-05-01T12:00:00.000Z', '2024-05-01T12:00:00.001Z']);
  });

  it('when every convenience method and log() are used then each line carries its level as a label', () => {
    const { log, file } = fileLogger({ level: 'trace' });
    log.log('trace', 'a.trace');
    log.debug('a.debug');
    log.info('a.info');
    log.warn('a.warn');
    log.error('a.error');
    log.log('fatal', 'a.fatal');
    expect(lines(file).map((l) => [l.level, l.event])).toEqual([
      ['trace', 'a.trace'],
      ['debug', 'a.debug'],
      ['info', 'a.info'],
      ['warn', 'a.warn'],
      ['error', 'a.error'],
      ['fatal', 'a.fatal'],
    ]);
  });

  it('when a field is named like a key of the line then it is written with an underscore and cannot overwrite the line', () => {
    const { log, file } = fileLogger();
    log.info('config.summary', { level: 'spoof', ts: 'spoof', schemaVersion: 9, event: 'spoof', msg: 'spoof' }, 'real');
    const [line] = lines(file);
    expect(line).toMatchObject({ level: 'info', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, event: 'config.summary', msg: 'real' });
    expect(line).toMatchObject({ _level: 'spoof', _ts: 'spoof', _schemaVersion: 9, _event: 'spoof', _msg: 'spoof' });
    expect(readFileSync(file, 'utf8').match(/"level":/g)).toHaveLength(1);
  });

  it('when an Error is a field (at any depth) then its type, message, stack and own fields are written', () => {
    const { log, file } = fileLogger();
    const err = Object.assign(new RangeError('nonce too low'), { code: 'EAPI:Invalid nonce' });
    log.error('venue.error', { err, attempt: { n: 2, cause: err } });
    const [line] = lines(file) as Array<{ err: Record<string, unknown>; attempt: { cause: Record<string, unknown> } }>;
    for (const e of [line!.err, line!.attempt.cause]) {
      expect(e).toMatchObject({ type: 'RangeError', message: 'nonce too low', code: 'EAPI:Invalid nonce' });
      expect(String(e.stack)).toContain('RangeError: nonce too low');
    }
  });

  it('when an object has toJSON (a Decimal, a Date) then its JSON form is written', () => {
    const { log, file } = fileLogger();
    log.info('recovery.done', { cash: { toJSON: () => '1000.50' } });
    expect(lines(file)[0]).toMatchObject({ cash: '1000.50' });
  });
});

describe('the level filter', () => {
  it('when --log-level is warn then info and debug are dropped and warn, error, fatal are kept', () => {
    const { log, file } = fileLogger({ level: 'warn' });
    log.debug('a.debug');
    log.info('a.info');
    log.warn('a.warn');
    log.error('a.error');
    log.log('fatal', 'a.fatal');
    expect(lines(file).map((l) => l.event)).toEqual(['a.warn', 'a.error', 'a.fatal']);
  });

  it('when no level is given then it is info: debug is dropped', () => {
    const { log, file } = fileLogger();
    log.debug('a.debug');
    log.info('a.info');
    expect(lines(file).map((l) => l.event)).toEqual(['a.info']);
  });

  it('when the level is debug then debug lines reach both the file and the pretty output', () => {
    const human = sink();
    const { log, file } = fileLogger({ level: 'debug', pretty: true, prettyDestination: human.stream });
    log.debug('reconciliation.finished', { differences: 0 });
    log.log('trace', 'a.trace');
    expect(lines(file).map((l) => l.event)).toEqual(['reconciliation.finished']);
    expect(human.text()).toContain('reconciliation.finished');
    expect(human.text()).not.toContain('a.trace');
  });

  it('when the level is warn then the pretty output drops info too', () => {
    const human = sink();
    const { log } = fileLogger({ level: 'warn', pretty: true, prettyDestination: human.stream });
    log.info('bot.started');
    log.error('venue.error');
    expect(human.text()).not.toContain('bot.started');
    expect(human.text()).toContain('venue.error');
  });

  it('when the level is silent then nothing is written', () => {
    const { log, file } = fileLogger({ level: 'silent' });
    log.log('fatal', 'a.fatal');
    expect(lines(file)).toEqual([]);
  });

  it('when the level is written in capitals then it is accepted', () => {
    const { log, file } = fileLogger({ level: 'WARN' });
    log.info('a.info');
    log.warn('a.warn');
    expect(lines(file).map((l) => l.event)).toEqual(['a.warn']);
  });

  it('when the level is not a level then the logger is refused with the bad value and the valid ones', () => {
    const file = join(tmp('tollgate-log-'), 'bot.jsonl');
    expect(() => createPinoLogger({ file, level: 'verbose' })).toThrow('invalid log level "verbose": use one of trace, debug, info, warn, error, fatal, silent');
    expect(existsSync(file)).toBe(false); // refused before anything is opened
  });
});

describe('redaction of credentials by key', () => {
  const TOP = ['apiKey', 'secret', 'apiSecret', 'password', 'token', 'authorization', 'credentials'];
  const NESTED = ['apiKey', 'secret', 'apiSecret', 'password', 'token', 'credentials'];

  it.each(TOP)('when a field is named %s then its value is written as [redacted]', (key) => {
    const { log, file } = fileLogger();
    log.info('config.summary', { [key]: 'the-value', kept: 'visible' });
    expect(lines(file)[0]).toMatchObject({ [key]: '[redacted]', kept: 'visible' });
    expect(readFileSync(file, 'utf8')).not.toContain('the-value');
  });

  it.each(NESTED)('when %s sits inside an object then it is written as [redacted] and its siblings are kept', (key) => {
    const { log, file } = fileLogger();
    log.info('config.summary', { venue: { name: 'kraken', [key]: 'the-value' } });
    expect(lines(file)[0]).toMatchObject({ venue: { name: 'kraken', [key]: '[redacted]' } });
    expect(readFileSync(file, 'utf8')).not.toContain('the-value');
  });

  it('when credentials is an object then the whole object is redacted', () => {
    const { log, file } = fileLogger();
    log.info('config.summary', { credentials: { apiKey: 'k-value', apiSecret: 's-value' } });
    expect(lines(file)[0]).toMatchObject({ credentials: '[redacted]' });
  });

  it('when request headers carry authorization, cookies or Kraken API keys then they are redacted and other headers kept', () => {
    const { log, file } = fileLogger();
    log.warn('venue.error', {
      headers: { authorization: 'Bearer a1', cookie: 'sid=c1', 'API-Key': 'k1', 'API-Sign': 's1', 'content-type': 'application/json' },
      req: { method: 'POST', headers: { authorization: 'Bearer a2', cookie: 'sid=c2', host: 'api.kraken.com' } },
    });
    expect(lines(file)[0]).toMatchObject({
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'API-Key': '[redacted]', 'API-Sign': '[redacted]', 'content-type': 'application/json' },
      req: { method: 'POST', headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'api.kraken.com' } },
    });
    for (const v of ['a1', 'c1', 'k1', 's1', 'a2', 'c2']) expect(readFileSync(file, 'utf8')).not.toContain(`"${v}"`);
  });

  it('when a child is bound with a credential then the bound value is redacted too', () => {
    const { log, file } = fileLogger();
    log.child({ component: 'telegram', token: 'bot-token-value' }).info('bot.started');
    expect(lines(file)[0]).toMatchObject({ component: 'telegram', token: '[redacted]' });
  });

  it('when a field is redacted then the caller object is left as it was', () => {
    const { log } = fileLogger();
    const fields = { apiKey: 'k-value', venue: { secret: 's-value' } };
    log.info('config.summary', fields);
    expect(fields).toEqual({ apiKey: 'k-value', venue: { secret: 's-value' } });
  });
});

describe('masking of exact secret values', () => {
  it('when a secret appears inside the message then it is masked', () => {
    const { log, file } = fileLogger({ secrets: [SECRET] });
    log.error('venue.error', {}, `signature failed for ${SECRET} (check the key)`);
    expect(lines(file)[0]).toMatchObject({ msg: 'signature failed for [redacted] (check the key)' });
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
  });

  it('when a secret appears inside a nested string, an array item or the event then it is masked and the rest of the string kept', () => {
    const { log, file } = fileLogger({ secrets: [SECRET] });
    log.info(`venue.${SECRET}`, { request: { url: `https://api.kraken.com/?k=${SECRET}&n=1`, args: ['a', `x${SECRET}x`] }, n: 3 });
    expect(lines(file)[0]).toMatchObject({
      event: 'venue.[redacted]',
      request: { url: 'https://api.kraken.com/?k=[redacted]&n=1', args: ['a', 'x[redacted]x'] },
      n: 3,
    });
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
  });

  it('when a secret is in an Error message and stack, a child binding or a base field then it is masked there too', () => {
    const { log, file } = fileLogger({ secrets: [SECRET], base: { note: `base ${SECRET}` } });
    log.child({ url: `wss://ws-auth.kraken.com?token=${SECRET}` }).error('venue.error', { err: new Error(`EAPI:Invalid key ${SECRET}`) });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(lines(file)[0]).toMatchObject({ note: 'base [redacted]', url: 'wss://ws-auth.kraken.com?token=[redacted]', err: { message: 'EAPI:Invalid key [redacted]' } });
  });

  it('when one secret contains another then the longer one is masked whole', () => {
    const { log, file } = fileLogger({ secrets: ['abc', 'xxabcxx'] });
    log.info('config.summary', { a: 'xxabcxx', b: 'abc' });
    expect(lines(file)[0]).toMatchObject({ a: '[redacted]', b: '[redacted]' });
  });

  it('when an empty secret is passed then nothing else is masked', () => {
    const { log, file } = fileLogger({ secrets: ['', '  '] });
    log.info('config.summary', { a: 'plain text' });
    expect(lines(file)[0]).toMatchObject({ a: 'plain text' });
  });

  it('when the fields refer to themselves then the line is still written, masked, without looping', () => {
    const { log, file } = fileLogger({ secrets: [SECRET] });
    const loop: Record<string, unknown> = { s: SECRET };
    loop.self = loop;
    log.info('config.summary', { loop });
    expect(lines(file)[0]).toMatchObject({ loop: { s: '[redacted]', self: '[Circular]' } });
  });

  it('when secrets are masked then the caller strings and objects are unchanged', () => {
    const { log } = fileLogger({ secrets: [SECRET] });
    const fields = { nested: { s: `x${SECRET}` } };
    log.info('config.summary', fields);
    expect(fields.nested.s).toBe(`x${SECRET}`);
  });
});

describe('child loggers', () => {
  it('when a child is made then its bindings appear on its lines, after base, and not on the parent lines', () => {
    const { log, file } = fileLogger({ base: { app: 'tollgate' } });
    const gateway = log.child({ component: 'gateway' });
    const order = gateway.child({ clientOrderId: 'tg-1' });
    gateway.info('reconciliation.finished', { differences: 0 });
    order.warn('venue.error', { attempt: 1 });
    log.info('bot.shutdown');
    expect(lines(file)).toEqual([
      { level: 'info', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, app: 'tollgate', component: 'gateway', event: 'reconciliation.finished', differences: 0 },
      { level: 'warn', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, app: 'tollgate', component: 'gateway', clientOrderId: 'tg-1', event: 'venue.error', attempt: 1 },
      { level: 'info', ts: '2024-05-01T12:00:00.000Z', schemaVersion: 1, app: 'tollgate', event: 'bot.shutdown' },
    ]);
  });

  it('when a method is taken off the logger then it still logs (one callback shape, no this)', () => {
    const { log, file } = fileLogger();
    const { info } = log.child({ component: 'bus' });
    info('bot.started');
    expect(lines(file)[0]).toMatchObject({ component: 'bus', event: 'bot.started' });
  });
});

describe('event time', () => {
  it('when the injected clock moves then ts follows it, and the wall clock is never read', () => {
    let now = Date.UTC(2020, 0, 1, 23, 59, 59, 999);
    const dateNow = vi.spyOn(Date, 'now');
    try {
      const { log, file } = fileLogger({ clock: () => now });
      log.info('a.one');
      now = Date.UTC(2020, 0, 2, 0, 0, 0, 0);
      log.info('a.two');
      expect(lines(file).map((l) => l.ts)).toEqual(['2020-01-01T23:59:59.999Z', '2020-01-02T00:00:00.000Z']);
      expect(dateNow).not.toHaveBeenCalled();
    } finally {
      dateNow.mockRestore();
    }
  });
});

describe('human output', () => {
  it('when pretty is on then the stream gets a readable line with the time, level, event, message and fields, and no secret', () => {
    const human = sink();
    const { log, file } = fileLogger({ pretty: true, prettyDestination: human.stream, secrets: [SECRET] });
    log.warn('trading.halted', { reason: 'reconciliation', apiKey: 'key-value', url: `x?k=${SECRET}` }, `halted, key ${SECRET}`);
    const text = human.text();
    expect(text).toContain('[2024-05-01 12:00:00.000] WARN: trading.halted  halted, key [redacted]');
    expect(text).toContain('"reason":"reconciliation"'); // fields on the same line (singleLine)
    expect(text.trim().split("\n")).toHaveLength(1);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('key-value');
    expect(text).not.toContain('\u001b['); // not a terminal: no colours
    expect(text).not.toContain('{"level"'); // a view, not the JSON
    expect(lines(file)).toHaveLength(1); // and the file still gets the JSON line
  });

  it('when pretty is off then the stream gets nothing', () => {
    const human = sink();
    const { log, file } = fileLogger({ pretty: false, prettyDestination: human.stream });
    log.info('bot.started');
    expect(human.text()).toBe('');
    expect(lines(file)).toHaveLength(1);
  });

  it('when pretty is off and stderr is asked for then the stream gets the same JSON line as the file', () => {
    const human = sink();
    const { log, file } = fileLogger({ pretty: false, stderr: true, prettyDestination: human.stream });
    log.info('bot.started', { mode: 'sim' });
    expect(human.text()).toBe(readFileSync(file, 'utf8'));
  });

  it('when pretty is not set then it follows whether the destination is a terminal', () => {
    const human = sink();
    const { log } = fileLogger({ pretty: undefined, prettyDestination: human.stream });
    log.info('bot.started');
    expect(human.text()).toBe(''); // a plain stream is not a TTY
  });

  it('when there is no file then the pretty output alone works', () => {
    const human = sink();
    const log = createPinoLogger({ clock: () => T0, pretty: true, prettyDestination: human.stream });
    open.push(log);
    log.info('bot.started');
    expect(human.text()).toContain('bot.started');
  });
});

describe('flush, close and crashes', () => {
  it('when the logger is closed then flush resolved, the file is complete, and later lines are dropped without an error', async () => {
    const { log, file } = fileLogger();
    const child = log.child({ component: 'x' });
    log.info('bot.started');
    await log.flush();
    await log.close();
    await log.close(); // twice is fine
    expect(() => child.info('after.close')).not.toThrow();
    expect(lines(file).map((l) => l.event)).toEqual(['bot.started']);
  });

  it('when the process exits right after logging then no line is lost, in the file or on stderr', () => {
    const dir = tmp('tollgate-log-crash-');
    const file = join(dir, 'logs', 'bot.jsonl');
    const script = join(dir, 'crash.mts');
    const adapter = join(import.meta.dirname, 'pino-logger.ts');
    writeFileSync(
      script,
      [
        `import { createPinoLogger } from ${JSON.stringify(adapter)};`,
        `const log = createPinoLogger({ file: ${JSON.stringify(file)}, pretty: true, clock: () => ${T0} });`,
        `for (let i = 0; i < 200; i++) log.info('tick.logged', { i });`,
        `log.log('fatal', 'bot.crashed', {}, 'exiting now');`,
        `process.exit(3);`,
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..', '..') });
    expect(run.status).toBe(3);
    const got = lines(file);
    expect(got).toHaveLength(201);
    expect(got.at(-1)).toMatchObject({ level: 'fatal', event: 'bot.crashed', msg: 'exiting now' });
    expect(run.stderr).toContain('FATAL: bot.crashed  exiting now');
    expect(run.stderr.match(/tick\.logged/g)).toHaveLength(200);
  });
});
