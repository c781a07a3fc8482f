/**
 * The Telegram front against a fake Bot API server on 127.0.0.1 (grammY's apiRoot): never the real network.
 * Every command goes through the operator service over a real state file; only configured chats command;
 * orders run on Confirm only, once; the token never reaches a log line.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/adapters/clock/clocks.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { statusJson } from '../src/cli/cli-state.ts';
import { krakenMarkets } from '../src/kraken/pairs.ts';
import { OperatorService } from '../src/operator/service.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { memoryLogger } from '../src/ports/logger.ts';
import { createTelegramFront, type TelegramFront } from '../src/telegram/bot.ts';
import { FakeBotApi } from './telegram-fake-api.ts';
import { tmp } from './helpers.ts';

const TOKEN = '123456:TEST-token-never-logged-AAAAAAAAAAAA';
const ALICE = 4242;
const MALLORY = 666;

describe('Telegram over the operator service (fake Bot API on 127.0.0.1)', () => {
  const api = new FakeBotApi(TOKEN);
  const markets = krakenMarkets();
  const store = SqliteStateStore.open(join(tmp('tollgate-tg-'), 'state.db'));
  const clock = new ManualClock(Date.UTC(2024, 0, 15, 12));
  const ledger = new Ledger(store, clock, (p) => markets.get(p));
  const operator = new OperatorService({ ledger, clock, controls: store, ledgerStatus: () => statusJson(store) });
  const logger = memoryLogger();
  let front: TelegramFront;
  let n = 0; // messages to Alice so far
  const say = async (text: string) => {
    api.text(ALICE, text);
    return api.waitSent(ALICE, ++n);
  };
  const press = async (messageId: number, data: string) => {
    api.press(ALICE, messageId, data);
    return api.waitSent(ALICE, ++n);
  };

  beforeAll(async () => {
    await api.start();
    ledger.setCash({ currency: 'USD', amount: '10000' }, { actor: 'test', key: 'seed', reason: 'deposit' });
    front = createTelegramFront({ token: TOKEN, apiRoot: api.root, operator, clock, allowedChats: new Set([ALICE]), logger, pollTimeoutSeconds: 1, confirmWindowMs: 60_000, newId: (() => { let i = 0; return () => `c${++i}`; })() });
    await front.start();
  });

  afterAll(async () => {
    await front.stop();
    await api.close();
    store.close();
  });

  it('when the bot starts then it asked the fake server (getMe), not api.telegram.org', () => {
    expect(api.calls[0]).toMatchObject({ method: 'getMe' });
    expect(logger.records.some((r) => r.event === 'telegram.started')).toBe(true);
  });

  it('when an allowed chat sends /status then it answers with the ledger’s cash and positions', async () => {
    const r = await say('/status');
    expect(r.body.text).toContain('cash: 10000 USD');
    expect(r.body.text).toContain('positions: none');
    expect(r.body.text).toContain('entries: open');
  });

  it('when a chat that is not configured sends /buy then it is refused once, nothing is booked, and later messages get no answer', async () => {
    const seq = store.snapshot().sequence;
    api.text(MALLORY, '/buy BTC/USD 0.01 50000');
    const r = await api.waitSent(MALLORY, 1);
    expect(r.body.text).toBe(`not authorised: chat ${MALLORY} is not in this bot's allowed chats`);
    api.text(MALLORY, '/setcash USD 1 steal');
    api.press(MALLORY, 1, 'ok:c1');
    await say('/help'); // Alice's message is handled after Mallory's
    expect(api.sent(MALLORY).filter((c) => c.method === 'sendMessage').length).toBe(1);
    expect(store.snapshot().sequence).toBe(seq);
    expect(logger.records.filter((x) => x.event === 'telegram.refused').length).toBeGreaterThanOrEqual(2);
  });

  it('when /buy is sent then nothing is booked until Confirm: the reply restates the order with a Confirm / Cancel keyboard', async () => {
    const seq = store.snapshot().sequence;
    const r = await say('/buy BTC/USD 0.01 50000 2');
    expect(r.body.text).toBe('confirm: BUY 0.01 BTC/USD @ 50000, fee 2?');
    expect(r.body.reply_markup.inline_keyboard[0]).toEqual([{ text: 'Confirm', callback_data: 'ok:c1' }, { text: 'Cancel', callback_data: 'no:c1' }]);
    expect(store.snapshot().sequence).toBe(seq);
  });

  it('when Confirm is pressed then the buy is booked through the operator service, audited as telegram:<chat>, and the question is replaced by the result', async () => {
    const r = await press(555, 'ok:c1');
    expect(r.method).toBe('editMessageText');
    expect(r.body.message_id).toBe(555);
    expect(r.body.text).toMatch(/^BUY 0\.01 BTC\/USD @ 50000, fee 2\ndone: sequence \d+, buy position \S+ holds 0\.01; cash USD 9498$/);
    const s = store.snapshot();
    expect(s.positions.length).toBe(1);
    expect(s.cash.find((c) => c.currency === 'USD')!.amount).toBe('9498');
    const last = [...store.audit()].pop()!;
    expect(last).toMatchObject({ operation: 'buy', actor: `telegram:${ALICE}`, idempotencyKey: 'telegram:c1' });
  });

  it('when Confirm is pressed twice then the second press books nothing', async () => {
    const seq = store.snapshot().sequence;
    const r = await press(555, 'ok:c1');
    expect(r.body.text).toBe('nothing to confirm: it was done, cancelled, or asked in another chat');
    expect(store.snapshot().sequence).toBe(seq);
  });

  it('when Cancel is pressed then nothing is booked', async () => {
    const seq = store.snapshot().sequence;
    await say('/sell BTC/USD 0.005 51000');
    const r = await press(556, 'no:c2');
    expect(r.body.text).toBe('cancelled: SELL 0.005 BTC/USD @ 51000');
    expect(store.snapshot().sequence).toBe(seq);
  });

  it('when Confirm comes after the confirmation window then it has expired and nothing is booked', async () => {
    const seq = store.snapshot().sequence;
    await say('/setcash USD 20000 monthly deposit');
    clock.advance(61_000);
    const r = await press(557, 'ok:c3');
    expect(r.body.text).toMatch(/^expired: SET CASH USD to 20000 \(monthly deposit\) was not confirmed within 60 s/);
    expect(store.snapshot().sequence).toBe(seq);
  });

  it('when /close is confirmed then the position is closed with its PnL', async () => {
    const id = store.snapshot().positions[0]!.id;
    const q = await say(`/close ${id} 51000`);
    expect(q.body.text).toBe(`confirm: CLOSE position ${id} @ 51000?`);
    const r = await press(558, 'ok:c4');
    expect(r.body.text).toMatch(/closed, PnL 8/); // (51000 − 50000) × 0.01 − 2
    expect(store.snapshot().positions.length).toBe(0);
  });

  it('when /setcash is confirmed then the balance is set with the reason in the audit log', async () => {
    await say('/setcash usd 12000 correction after review');
    const r = await press(559, 'ok:c5');
    expect(r.body.text).toMatch(/done: sequence \d+, setcash; cash USD 12000 \(was 10008\)$/);
    expect([...store.audit()].pop()).toMatchObject({ operation: 'setcash', actor: `telegram:${ALICE}`, reason: 'correction after review' });
  });

  it('when /pause and /resume are sent then the kept controls follow at once (no confirmation), audited', async () => {
    expect((await say('/pause FOMC at 14:00')).body.text).toMatch(/^entries paused \(sequence \d+\)/);
    expect(operator.controls().paused).toMatchObject({ by: `telegram:${ALICE}`, reason: 'FOMC at 14:00' });
    expect((await say('/status')).body.text).toContain(`entries: PAUSED by telegram:${ALICE}: FOMC at 14:00`);
    expect((await say('/resume')).body.text).toMatch(/^entries resumed/);
    expect(operator.controls().paused).toBeNull();
  });

  it('when a command is malformed then it explains and books nothing', async () => {
    const seq = store.snapshot().sequence;
    expect((await say('/buy BTC/USD lots')).body.text).toBe('QTY: expected a decimal number such as 0.01 (got "lots")');
    expect((await say('/setcash USD 5')).body.text).toBe('/setcash needs a reason: it is written to the audit log');
    expect((await say('/pause')).body.text).toBe('/pause needs a reason: it is written to the audit log');
    expect((await say('/frobnicate')).body.text).toMatch(/^unknown command "\/frobnicate"/);
    expect(store.snapshot().sequence).toBe(seq);
  });

  it('when the ledger refuses a confirmed order then the reply says why', async () => {
    await say('/buy BTC/USD 100 50000');
    const r = await press(560, 'ok:c6');
    expect(r.body.text).toMatch(/^BUY 100 BTC\/USD @ 50000\nrefused: insufficient USD cash/);
  });

  it('when a reply fails on the Bot API then the error is logged and the token appears in no log line', async () => {
    api.failOnce.add('sendMessage');
    api.text(ALICE, '/help');
    const until = Date.now() + 5000;
    while (!logger.records.some((r) => r.event === 'telegram.error') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(logger.records.find((r) => r.event === 'telegram.error')?.fields).toMatchObject({ error: expect.stringContaining('Internal Server Error: injected') });
    expect(JSON.stringify(logger.records)).not.toContain(TOKEN);
    expect(JSON.stringify(logger.records)).not.toContain(TOKEN.split(':')[1]);
  });

  it('when the token is wrong then start fails with the API’s refusal and without the token in the message', async () => {
    const wrong = '999:WRONG-secret-token-value-BBBBBBBBBB';
    const bad = createTelegramFront({ token: wrong, apiRoot: api.root, operator, clock, allowedChats: new Set([ALICE]), logger });
    const err = await bad.start().then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/Unauthorized/);
    expect(err?.message).not.toContain(wrong);
    expect(err?.message).not.toContain('WRONG-secret');
  });
});
