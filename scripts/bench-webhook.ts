/**
 * Webhook throughput (issue 12): autocannon on loopback against POST /webhook of a bot that replays the
 * bundled data at a pace, every request a distinct valid TradingView alert (so each is authenticated,
 * validated, deduplicated, written to the intake and handed to the bus), and the same load against a bare
 * fastify route in the same run. Prints req/s and p99; never fails on time.
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { ManualClock, SystemClock } from '../src/adapters/clock/clocks.ts';
import { loadKrakenOhlcvt } from '../src/adapters/csv/kraken-ohlcvt.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { parseConfig } from '../src/config/schema.ts';
import { composeBot } from '../src/engine/compose-bot.ts';
import { buildMarkets } from '../src/engine/wiring.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { OperatorService } from '../src/operator/service.ts';
import { Ledger } from '../src/portfolio/ledger.ts';
import { nullLogger } from '../src/ports/logger.ts';
import { fmt, row, type Figure } from './bench-util.ts';
import { join } from 'node:path';

const DATA = join(import.meta.dirname, '..', 'data', 'kraken', 'XBTUSD_60.csv.gz');
const PASSPHRASE = 'bench-passphrase-0123456789';
const SECONDS = 5;
const CONNECTIONS = 20;

async function load(url: string, body: (i: number) => string): Promise<{ rps: number; p99: number; non2xx: number; total: number }> {
  let i = 0;
  const r = await autocannon({
    url, method: 'POST', connections: CONNECTIONS, duration: SECONDS, headers: { 'content-type': 'text/plain' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body(i++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx, total: r.requests.total };
}

export async function benchWebhook(): Promise<Figure[]> {
  console.log(`\nwebhook on loopback (autocannon, ${CONNECTIONS} connections, ${SECONDS} s each; the bot replays at 200 candles/s meanwhile)`);
  const config = parseConfig({});
  const markets = buildMarkets(config);
  const series = loadKrakenOhlcvt(DATA, { pair: 'BTC/USD', fromMs: Date.UTC(2017, 0, 1), toMs: Date.UTC(2019, 0, 1) });
  const bot = await composeBot({ mode: 'replay', config, markets, series, logsDir: null, pace: 200, logger: nullLogger });
  const store = SqliteStateStore.memory();
  const wall = new SystemClock();
  const ledger = new Ledger(store, new ManualClock(wall.now()), (p) => markets.get(p));
  const operator = new OperatorService({ ledger, clock: wall, controls: store, bot, ledgerStatus: () => ({}) });
  const http = await buildHttpServer({
    bot, operator, intake: store, clock: wall, logger: nullLogger,
    settings: {
      host: '127.0.0.1', port: 0, token: 'bench-token-0123456789abcdef', bodyLimit: 16 * 1024, rateLimitPerMinute: 1_000_000, logFile: null,
      webhook: {
        passphrase: PASSPHRASE, hmacSecret: null, allowIps: [], trustedProxies: [], maxAgeMs: 60_000, maxSkewMs: 10_000, hmacWindowMs: 300_000,
        dedupWindowMs: 600_000, defaultStrategy: 'ema_cross', strategies: ['ema_cross', 'rsi_reversion', 'donchian_breakout'],
      },
    },
  });
  await bot.start();
  const url = await http.listen();
  const alert = (i: number) => JSON.stringify({ id: `bench-${process.pid}-${i}`, passphrase: PASSPHRASE, ticker: 'KRAKEN:XBTUSD', action: 'buy', price: '1000.5', time: new Date().toISOString() }) + '\n';
  const hook = await load(`${url}/webhook`, alert);
  await http.close();
  await bot.stop('bench over').catch(() => {});
  store.close();

  const bare = Fastify();
  bare.addContentTypeParser('text/plain', { parseAs: 'string' }, (_r, b, done) => done(null, b));
  bare.post('/webhook', async (_req, reply) => reply.code(202).send({ ok: true }));
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  const plain = await load(`${bareUrl}/webhook`, alert);
  await bare.close();

  row('POST /webhook req/s, p99', `${fmt(hook.rps)} req/s, p99 ${fmt(hook.p99, 1)} ms (${fmt(hook.total)} alerts, ${fmt(hook.non2xx)} not 2xx)`);
  row('bare fastify route req/s, p99', `${fmt(plain.rps)} req/s, p99 ${fmt(plain.p99, 1)} ms`);
  row('webhook ÷ bare', `${fmt(hook.rps / plain.rps, 2)}`);
  console.log('  aim (not an assertion): ≥ 5,000 req/s, p99 < 10 ms, ≥ 0.5 of the bare route');
  return [
    { name: 'webhook_requests_per_second', value: hook.rps, unit: 'req/s', usPerUnit: hook.rps > 0 ? 1e6 / hook.rps : null, per: 'request' },
    { name: 'webhook_p99_ms', value: hook.p99, unit: 'ms', usPerUnit: null },
    { name: 'bare_fastify_requests_per_second', value: plain.rps, unit: 'req/s', usPerUnit: plain.rps > 0 ? 1e6 / plain.rps : null, per: 'request' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWebhook();
