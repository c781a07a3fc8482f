// Tests of the port's own loggers (src/ports/logger.ts): nullLogger and memoryLogger.
import { describe, expect, it } from 'vitest';
import { memoryLogger, nullLogger, type Logger } from './logger.ts';

describe('memoryLogger, the logger for tests', () => {
  it('when lines are logged then records keep level, event, fields and message in order', () => {
    const log = memoryLogger();
    log.info('bot.started', { mode: 'paper' }, 'started');
    log.warn('trading.halted');
    log.log('fatal', 'bot.crashed', { code: 3 });
    expect(log.records).toEqual([
      { level: 'info', event: 'bot.started', fields: { mode: 'paper' }, message: 'started' },
      { level: 'warn', event: 'trading.halted', fields: {} },
      { level: 'fatal', event: 'bot.crashed', fields: { code: 3 } },
    ]);
  });

  it('when a child logs then its bindings come first in the fields and the record lands in the shared array', () => {
    const log = memoryLogger();
    const child = log.child({ component: 'gateway' }).child({ pair: 'BTC/USD' });
    child.error('venue.error', { attempt: 2 });
    expect(log.records).toEqual([{ level: 'error', event: 'venue.error', fields: { component: 'gateway', pair: 'BTC/USD', attempt: 2 } }]);
  });

  it('when a method is taken off the logger then it still records (no this)', () => {
    const log = memoryLogger();
    const { debug } = log;
    debug('recovery.done');
    expect(log.records.map((r) => r.event)).toEqual(['recovery.done']);
  });

  it('when closed then later lines are not recorded, as with the real logger', async () => {
    const log = memoryLogger();
    log.info('bot.shutdown');
    await log.flush();
    await log.close();
    log.child({ a: 1 }).info('after.close');
    expect(log.records.map((r) => r.event)).toEqual(['bot.shutdown']);
  });
});

describe('nullLogger', () => {
  it('when anything is logged then nothing happens and its children are the null logger too', async () => {
    const log: Logger = nullLogger;
    expect(() => log.info('bot.started', { a: 1 }, 'm')).not.toThrow();
    expect(log.child({ a: 1 })).toBe(nullLogger);
    await expect(log.flush()).resolves.toBeUndefined();
    await expect(log.close()).resolves.toBeUndefined();
  });
});
