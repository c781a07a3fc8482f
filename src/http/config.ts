/**
 * The HTTP face's settings: where it listens and the secrets it checks. Secrets come from the environment
 * or from a file readable by its owner only (mode 600); a bad setting is one clear HttpConfigError naming it
 * (never the secret's value).
 *
 *   TOLLGATE_HTTP_TOKEN / TOLLGATE_HTTP_TOKEN_FILE            operator API bearer token (none: the API is off)
 *   TOLLGATE_WEBHOOK_PASSPHRASE / …_PASSPHRASE_FILE           TradingView: the passphrase inside the alert body
 *   TOLLGATE_WEBHOOK_HMAC_SECRET / …_HMAC_SECRET_FILE         own scripts: HMAC-SHA256 over timestamp + body
 *   TOLLGATE_WEBHOOK_ALLOW_IPS     comma-separated addresses, or `tradingview` (its four published addresses)
 *   TOLLGATE_HTTP_TRUSTED_PROXIES  comma-separated addresses whose X-Forwarded-For is believed
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

export class HttpConfigError extends Error {}

/** TradingView's published webhook source addresses (IPv4 only: TradingView uses no IPv6). */
export const TRADINGVIEW_IPS: readonly string[] = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'];

export interface WebhookSettings {
  /** TradingView's passphrase inside the body; null: TradingView alerts are refused */
  readonly passphrase: string | null;
  /** own scripts' HMAC-SHA256 key; null: signed requests are refused */
  readonly hmacSecret: string | null;
  /** socket (or trusted-proxy forwarded) addresses allowed to send passphrase alerts; empty: any */
  readonly allowIps: readonly string[];
  /** proxies whose X-Forwarded-For names the real client */
  readonly trustedProxies: readonly string[];
  /** an alert whose own time is older than this is stale (default 60 s) */
  readonly maxAgeMs: number;
  /** an alert's time may be this far ahead of ours (clock skew, default 10 s) */
  readonly maxSkewMs: number;
  /** an HMAC timestamp outside ± this is refused as a replay (default 300 s) */
  readonly hmacWindowMs: number;
  /** a repeat of the same body (no id in it) within this window is the same alert (default 10 min) */
  readonly dedupWindowMs: number;
  /** the strategy a webhook signal is booked under when its body names none (its exit rules apply) */
  readonly defaultStrategy: string;
  /** the strategies a body may name */
  readonly strategies: readonly string[];
}

export interface HttpSettings {
  readonly host: string;
  readonly port: number;
  /** operator API bearer token; null: /api/v1 answers 401 to everyone */
  readonly token: string | null;
  readonly webhook: WebhookSettings;
  /** largest request body in bytes (default 16 KiB) */
  readonly bodyLimit: number;
  /** operator API: requests per minute per client (default 120) */
  readonly rateLimitPerMinute: number;
  /** the operational log file `GET /api/v1/logs` tails (optional) */
  readonly logFile: string | null;
}

/** `127.0.0.1:8080`, `:8080` (loopback), `[::1]:8080` → host and port; 0 picks a free port. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
  const host = m ? (m[1] ?? m[2] ?? '') || '127.0.0.1' : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new HttpConfigError(`--http ${value}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  if (host !== 'localhost' && isIP(host) === 0) throw new HttpConfigError(`--http ${value}: ${host} is not an IP address (bind an address, e.g. 127.0.0.1 or 0.0.0.0)`);
  return { host, port };
}

/** A secret from `NAME` or from the file `NAME_FILE` (which must not be readable by group or others). */
export function secretFrom(env: NodeJS.ProcessEnv, name: string): string | null {
  const file = env[`${name}_FILE`];
  const direct = env[name];
  if (file && direct) throw new HttpConfigError(`${name} and ${name}_FILE are both set: keep one`);
  if (direct !== undefined) {
    if (direct.trim().length < 12) throw new HttpConfigError(`${name}: too short (at least 12 characters)`);
    return direct.trim();
  }
  if (!file) return null;
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HttpConfigError(`${name}_FILE ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if ((mode & 0o077) !== 0) throw new HttpConfigError(`${name}_FILE ${file}: readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  const v = text.trim();
  if (v.length < 12) throw new HttpConfigError(`${name}_FILE ${file}: the secret is too short (at least 12 characters)`);
  return v;
}

function addressList(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name];
  if (!raw || !raw.trim()) return [];
  const out: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part.toLowerCase() === 'tradingview') out.push(...TRADINGVIEW_IPS);
    else if (isIP(part) !== 0) out.push(part);
    else throw new HttpConfigError(`${name}: "${part}" is not an IP address (or the preset "tradingview")`);
  }
  return [...new Set(out)];
}

/** The settings of `--http HOST:PORT` from the environment. */
export function httpSettingsFromEnv(listen: string, env: NodeJS.ProcessEnv, o: { strategies: readonly string[]; logFile?: string | null }): HttpSettings {
  const { host, port } = parseListen(listen);
  if (!o.strategies.length) throw new HttpConfigError('the config has no strategy to book webhook signals under');
  return {
    host, port,
    token: secretFrom(env, 'TOLLGATE_HTTP_TOKEN'),
    bodyLimit: 16 * 1024,
    rateLimitPerMinute: 120,
    logFile: o.logFile ?? null,
    webhook: {
      passphrase: secretFrom(env, 'TOLLGATE_WEBHOOK_PASSPHRASE'),
      hmacSecret: secretFrom(env, 'TOLLGATE_WEBHOOK_HMAC_SECRET'),
      allowIps: addressList(env, 'TOLLGATE_WEBHOOK_ALLOW_IPS'),
      trustedProxies: addressList(env, 'TOLLGATE_HTTP_TRUSTED_PROXIES'),
      maxAgeMs: 60_000, maxSkewMs: 10_000, hmacWindowMs: 300_000, dedupWindowMs: 600_000,
      defaultStrategy: o.strategies[0]!, strategies: o.strategies,
    },
  };
}

/** The secrets of these settings, for the operational log's masking. */
export function httpSecrets(s: HttpSettings): string[] {
  return [s.token, s.webhook.passphrase, s.webhook.hmacSecret].filter((x): x is string => x !== null);
}
