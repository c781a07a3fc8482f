/**
 * The webhook's rules, as pure functions: how a body is read (TradingView's text/plain or application/json,
 * a trailing newline), how a sender is authenticated (TradingView: a passphrase in the body, optionally from
 * an allowed address; own scripts: HMAC-SHA256 over `timestamp.body` in a replay window), and what makes an
 * alert a signal (ticker through the one pair source, action, exact price, fresh time, no placeholder left).
 *
 * Every refusal is a WebhookError with a 4xx status and a message naming the problem. Secrets are compared in
 * constant time and never echoed; an authentication failure never says which part was wrong.
 *
 * The alert body (JSON object; unknown fields are ignored, but none may hold an unreplaced placeholder):
 *   passphrase   TradingView only: the configured passphrase
 *   ticker       `{{ticker}}` / `{{exchange}}:{{ticker}}`: KRAKEN:XBTUSD, XBTUSD, BTCUSD, BTC/USD (alias: pair)
 *   action       buy | sell (`{{strategy.order.action}}`; alias: side)
 *   price        the reference price, a decimal number or string (`{{close}}`; alias: close)
 *   time         the alert's own time (`{{timenow}}`): ISO 8601, or epoch seconds/milliseconds; optional
 *   id           an idempotency id (e.g. `{{strategy.order.id}}-{{timenow}}`); optional
 *   strategy     a configured strategy name; optional (default: the configured default)
 *   confidence   0..1, optional (default 1)
 *   reason       free text, optional
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { Dec } from '../domain/money.ts';
import { findSymbol } from '../kraken/pairs.ts';
import type { WebhookSettings } from './config.ts';

export class WebhookError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 409 | 413 | 415 | 422 | 503, readonly code: string, message: string) {
    super(message);
    this.name = 'WebhookError';
  }
}

export const SIGNATURE_HEADER = 'x-tollgate-signature';
export const TIMESTAMP_HEADER = 'x-tollgate-timestamp';

/** Constant-time equality of two secrets of any length (both are hashed first, so lengths leak nothing). */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else as it is. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/**
 * The client's address: the socket's, or — only when the socket is a trusted proxy — the right-most address
 * of X-Forwarded-For that is not itself a trusted proxy.
 */
export function clientAddress(socketIp: string | undefined, forwardedFor: string | string[] | undefined, trusted: readonly string[]): string {
  const peer = normalizeIp(socketIp);
  if (!trusted.includes(peer) || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => normalizeIp(h.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    if (isIP(h) === 0) return peer; // a forged or broken header: believe the socket
    if (!trusted.includes(h)) return h;
  }
  return peer;
}

/** The body as a JSON object: TradingView sends text/plain for messages it does not take for JSON. */
export function parseBody(raw: string): Record<string, unknown> {
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '') throw new WebhookError(400, 'EMPTY_BODY', 'body is empty: expected the alert as a JSON object');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // the parser's own message quotes the body, which may hold the passphrase: never echoed
    throw new WebhookError(400, 'MALFORMED_JSON', 'body is not valid JSON: expected the alert as a JSON object');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new WebhookError(400, 'NOT_AN_OBJECT', `body is JSON ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}, expected an object`);
  return v as Record<string, unknown>;
}

export type Source = 'tradingview' | 'hmac';

/** Which sender: a request with a signature header is an own script's; any other a TradingView alert. */
export function sourceOf(headers: Record<string, string | string[] | undefined>): Source {
  return headers[SIGNATURE_HEADER] !== undefined ? 'hmac' : 'tradingview';
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** An own script's request: timestamp (epoch ms) within the window and HMAC-SHA256(secret, `${timestamp}.${raw}`). */
export function verifyHmac(raw: string, headers: Record<string, string | string[] | undefined>, s: WebhookSettings, now: number): void {
  if (s.hmacSecret === null) throw new WebhookError(401, 'AUTH_FAILED', 'authentication failed: signed requests are not enabled on this bot');
  const ts = header(headers, TIMESTAMP_HEADER);
  if (ts === undefined) throw new WebhookError(401, 'TIMESTAMP_MISSING', `${TIMESTAMP_HEADER} header missing (epoch milliseconds, signed with the body)`);
  if (!/^\d{10,16}$/.test(ts)) throw new WebhookError(401, 'TIMESTAMP_MALFORMED', `${TIMESTAMP_HEADER} header is not epoch milliseconds`);
  if (Math.abs(now - Number(ts)) > s.hmacWindowMs) throw new WebhookError(401, 'TIMESTAMP_OUTSIDE_WINDOW', `${TIMESTAMP_HEADER} is outside the replay window of ±${s.hmacWindowMs / 1000} s`);
  const sig = (header(headers, SIGNATURE_HEADER) ?? '').trim().replace(/^sha256=/i, '');
  const expected = createHmac('sha256', s.hmacSecret).update(`${ts}.${raw}`, 'utf8').digest('hex');
  if (!/^[0-9a-f]{64}$/i.test(sig) || !timingSafeEqual(Buffer.from(sig.toLowerCase(), 'utf8'), Buffer.from(expected, 'utf8'))) {
    throw new WebhookError(401, 'AUTH_FAILED', 'authentication failed');
  }
}

/** The signature header value an own script sends (tests, scripts). */
export function signBody(secret: string, timestamp: number, raw: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`, 'utf8').digest('hex')}`;
}

/** A TradingView alert: from an allowed address (when a list is set), with the passphrase in its body. */
export function checkAddress(ip: string, s: WebhookSettings): void {
  if (s.allowIps.length && !s.allowIps.includes(ip)) throw new WebhookError(403, 'ADDRESS_NOT_ALLOWED', `source address ${ip || '(unknown)'} is not on the webhook allowlist`);
}

export function verifyPassphrase(body: Record<string, unknown>, s: WebhookSettings): void {
  if (s.passphrase === null) throw new WebhookError(401, 'AUTH_FAILED', 'authentication failed: passphrase alerts are not enabled on this bot');
  const p = body.passphrase;
  if (p === undefined || p === null || p === '') throw new WebhookError(401, 'PASSPHRASE_MISSING', 'passphrase missing: put "passphrase" in the alert message');
  if (typeof p !== 'string' || !secretEquals(p, s.passphrase)) throw new WebhookError(401, 'AUTH_FAILED', 'authentication failed');
}

const PLACEHOLDER = /\{\{[^{}]*\}\}/;

/** The first unreplaced `{{…}}` in any string of the body (the passphrase excepted: never echoed). */
function placeholderIn(v: unknown, path: string): { path: string; placeholder: string } | null {
  if (typeof v === 'string') {
    const m = PLACEHOLDER.exec(v);
    return m ? { path, placeholder: m[0].slice(0, 64) } : null;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (path === '' && k === 'passphrase') continue;
      const r = placeholderIn(x, path ? `${path}.${k}` : k);
      if (r) return r;
    }
  }
  return null;
}

/** What an authenticated body asks for, validated. */
export interface Alert {
  readonly pair: string;
  readonly side: 'buy' | 'sell';
  /** exact decimal string */
  readonly price: string;
  readonly timeMs: number | null;
  readonly id: string | null;
  readonly strategy: string;
  readonly confidence: number;
  readonly reason: string;
}

function pick(body: Record<string, unknown>, names: readonly string[]): { name: string; value: unknown } | null {
  for (const n of names) if (body[n] !== undefined && body[n] !== null) return { name: n, value: body[n] };
  return null;
}

function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

const DECIMAL = /^\d{1,20}(\.\d{1,18})?$/;

/** `2024-05-01T12:00:00Z`, epoch seconds or milliseconds (number or digits) → ms, or null when not a time. */
export function alertTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e11 ? Math.round(v * 1000) : Math.round(v);
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (/^\d{9,16}(\.\d+)?$/.test(t)) return alertTime(Number(t));
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The alert of an authenticated body, or a WebhookError naming the first problem.
 * @param tradedPair the pair the bot trades (an alert for another pair is refused)
 */
export function readAlert(body: Record<string, unknown>, s: WebhookSettings, tradedPair: string, now: number): Alert {
  const ph = placeholderIn(body, '');
  if (ph) throw new WebhookError(400, 'UNREPLACED_PLACEHOLDER', `field ${ph.path}: unreplaced TradingView placeholder ${ph.placeholder} (the alert is mis-set)`);

  const t = pick(body, ['ticker', 'pair', 'symbol']);
  if (!t) throw new WebhookError(400, 'FIELD_MISSING', 'field ticker missing (e.g. "KRAKEN:XBTUSD" or "{{exchange}}:{{ticker}}")');
  if (typeof t.value !== 'string') throw new WebhookError(400, 'FIELD_TYPE', `field ${t.name}: expected a string, got ${typeof t.value}`);
  const ticker = t.value.trim();
  const symbolPart = ticker.includes(':') ? ticker.slice(ticker.lastIndexOf(':') + 1) : ticker;
  const pair = symbolPart.length > 0 && symbolPart.length <= 32 ? findSymbol(symbolPart) : null;
  if (pair === null) throw new WebhookError(400, 'UNKNOWN_PAIR', `field ${t.name}: unknown pair "${short(ticker)}" (not a Kraken pair: try KRAKEN:XBTUSD or BTC/USD)`);
  if (pair !== tradedPair) throw new WebhookError(422, 'PAIR_NOT_TRADED', `field ${t.name}: ${pair} is not traded by this bot (it trades ${tradedPair})`);

  const a = pick(body, ['action', 'side']);
  if (!a) throw new WebhookError(400, 'FIELD_MISSING', 'field action missing (buy or sell, e.g. "{{strategy.order.action}}")');
  const side = typeof a.value === 'string' ? a.value.trim().toLowerCase() : null;
  if (side !== 'buy' && side !== 'sell') throw new WebhookError(400, 'FIELD_VALUE', `field ${a.name}: expected buy or sell, got ${short(a.value)}`);

  const p = pick(body, ['price', 'close']);
  if (!p) throw new WebhookError(400, 'FIELD_MISSING', 'field price missing (a decimal, e.g. "{{close}}")');
  const priceText = typeof p.value === 'number' && Number.isFinite(p.value) ? String(p.value) : typeof p.value === 'string' ? p.value.trim() : null;
  if (priceText === null || !DECIMAL.test(priceText)) throw new WebhookError(400, 'FIELD_TYPE', `field ${p.name}: expected a positive decimal number, got ${short(p.value)}`);
  const price = new Dec(priceText);
  if (!price.gt(0)) throw new WebhookError(400, 'FIELD_VALUE', `field ${p.name}: must be greater than 0`);

  let timeMs: number | null = null;
  const tm = pick(body, ['time', 'timenow']);
  if (tm) {
    timeMs = alertTime(tm.value);
    if (timeMs === null) throw new WebhookError(400, 'FIELD_TYPE', `field ${tm.name}: expected an ISO 8601 time or epoch seconds/milliseconds, got ${short(tm.value)}`);
    if (now - timeMs > s.maxAgeMs) throw new WebhookError(422, 'STALE_ALERT', `alert is stale: its time is ${Math.round((now - timeMs) / 1000)} s old (at most ${s.maxAgeMs / 1000} s)`);
    if (timeMs - now > s.maxSkewMs) throw new WebhookError(422, 'ALERT_IN_FUTURE', `alert time is ${Math.round((timeMs - now) / 1000)} s in the future (at most ${s.maxSkewMs / 1000} s of clock skew)`);
  }

  let id: string | null = null;
  if (body.id !== undefined && body.id !== null) {
    if ((typeof body.id !== 'string' && typeof body.id !== 'number') || String(body.id).trim() === '' || String(body.id).length > 128) {
      throw new WebhookError(400, 'FIELD_TYPE', 'field id: expected a non-empty string of at most 128 characters');
    }
    id = String(body.id).trim();
  }

  let strategy = s.defaultStrategy;
  if (body.strategy !== undefined && body.strategy !== null) {
    if (typeof body.strategy !== 'string' || !s.strategies.includes(body.strategy)) {
      throw new WebhookError(422, 'UNKNOWN_STRATEGY', `field strategy: ${short(body.strategy)} is not a configured strategy (${s.strategies.join(', ')})`);
    }
    strategy = body.strategy;
  }

  let confidence = 1;
  if (body.confidence !== undefined && body.confidence !== null) {
    const c = typeof body.confidence === 'string' && /^\d+(\.\d+)?$/.test(body.confidence.trim()) ? Number(body.confidence) : body.confidence;
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 1) throw new WebhookError(400, 'FIELD_VALUE', `field confidence: expected a number from 0 to 1, got ${short(body.confidence)}`);
    confidence = c;
  }

  let reason = 'webhook';
  if (body.reason !== undefined && body.reason !== null) {
    if (typeof body.reason !== 'string') throw new WebhookError(400, 'FIELD_TYPE', `field reason: expected a string, got ${typeof body.reason}`);
    reason = body.reason.slice(0, 200);
  }
  return { pair, side, price: price.toFixed(), timeMs, id, strategy, confidence, reason };
}

/** What makes a repeat a repeat: the body's id (per source), else the hash of source and raw body. */
export function dedupKey(source: Source, raw: string, id: string | null): { key: string; bodyHash: string; byId: boolean } {
  const bodyHash = createHash('sha256').update(`${source}\n${raw.replace(/^\uFEFF/, '').trim()}`, 'utf8').digest('hex');
  return id !== null ? { key: `id:${source}:${id}`, bodyHash, byId: true } : { key: `hash:${bodyHash}`, bodyHash, byId: false };
}

/**
 * A webhook request authenticated and read: an own script's HMAC over the raw body, or TradingView's passphrase
 * in the body plus the source-address allowlist (on the socket address; X-Forwarded-For only from trusted
 * proxies). The bot's webhook and the separate intake process both take alerts through here.
 * @throws WebhookError naming the problem (never which secret part was wrong)
 */
export function authenticatedAlert(
  raw: string,
  req: { readonly headers: Record<string, string | string[] | undefined>; readonly socket: { readonly remoteAddress?: string | undefined } },
  s: WebhookSettings,
  tradedPair: string,
  now: number,
): { readonly source: Source; readonly alert: Alert } {
  const source = sourceOf(req.headers);
  let body: Record<string, unknown>;
  if (source === 'hmac') {
    verifyHmac(raw, req.headers, s, now);
    body = parseBody(raw);
  } else {
    checkAddress(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], s.trustedProxies), s);
    body = parseBody(raw);
    verifyPassphrase(body, s);
  }
  return { source, alert: readAlert(body, s, tradedPair, now) };
}
