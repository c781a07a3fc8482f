/**
 * The dashboard's only way to change anything: the bot's operator API (`/api/v1/...` of its HTTP face), with
 * the operator token as a Bearer header. The bot audits each command with its caller (`http:dashboard@<token
 * fingerprint>`) and the reason; the dashboard never writes the state database. The token is held here only:
 * it is never rendered, logged, or put in an error message.
 */

export interface BotLink {
  /** the bot's HTTP face, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly token: string;
  readonly timeoutMs?: number;
}

export const GUARD_MODES = ['enforce', 'observe', 'off'] as const;
export type GuardModeName = (typeof GUARD_MODES)[number];

/** The operator API's answer to a command, or its refusal; `status` null when the bot did not answer. */
export class BotApiError extends Error {
  override name = 'BotApiError';
  constructor(readonly status: number | null, message: string, readonly code: string | null = null) {
    super(message);
  }
}

export interface BotStatusView {
  readonly bot: {
    readonly mode: string;
    readonly state: string;
    readonly pair: string;
    readonly startedAt: string | null;
    readonly candles: number;
    readonly lastCandleTs: string | null;
    readonly paused: { by: string; reason: string; since: number } | null;
    readonly guards: ReadonlyArray<{ code: string; mode: string }>;
    readonly venue: { name: string; halted: string | null };
    readonly reconciliation: { ts: string; differences: number; halted: boolean } | null;
    readonly components: Readonly<Record<string, { status?: string; detail?: string | null } & Record<string, unknown>>>;
    readonly error: string | null;
  } | null;
  readonly controls: { paused: { by: string; reason: string; since: number } | null; guardModes: Record<string, string> };
}

export interface ControlAnswer {
  readonly command: string;
  readonly repeated: boolean;
  readonly seq: number;
  readonly applied: boolean;
  readonly guard?: { code: string; from: string; to: string };
}

export type ControlCommand = { readonly action: 'pause'; readonly reason: string } | { readonly action: 'resume'; readonly reason: string } | { readonly action: 'guard'; readonly code: string; readonly mode: GuardModeName; readonly reason: string };

/** The actor name the bot writes into its audit for commands from the dashboard. */
export const DASHBOARD_ACTOR = 'dashboard';

export class BotClient {
  readonly origin: string;
  constructor(private readonly link: BotLink) {
    let u: URL;
    try {
      u = new URL(link.url);
    } catch {
      throw new BotApiError(null, `bot URL ${link.url}: not a URL (expected e.g. http://127.0.0.1:8080)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BotApiError(null, `bot URL ${link.url}: expected http:// or https://`);
    this.origin = u.origin;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.link.token}`, 'x-tollgate-actor': DASHBOARD_ACTOR };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let res: Response;
    try {
      res = await fetch(`${this.origin}/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(this.link.timeoutMs ?? 5000), redirect: 'error' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new BotApiError(null, `the bot at ${this.origin} did not answer (${cause})`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const j = (json ?? {}) as { error?: unknown; message?: unknown };
      const what = typeof j.message === 'string' ? j.message : `HTTP ${res.status}`;
      const code = typeof j.error === 'string' ? j.error : null;
      throw new BotApiError(res.status, `the bot refused: ${what}${code ? ` (${code})` : ''}`, code);
    }
    return json as T;
  }

  status(): Promise<BotStatusView> {
    return this.call('GET', '/status');
  }

  guards(): Promise<{ guards: Array<{ code: string; mode: string | null }> }> {
    return this.call('GET', '/guards');
  }

  /** One confirmed control; the idempotency key makes a double submit of the same confirmation count once. */
  command(c: ControlCommand, idempotencyKey: string): Promise<ControlAnswer> {
    if (c.action === 'guard') return this.call('POST', `/guards/${encodeURIComponent(c.code)}`, { mode: c.mode, reason: c.reason }, idempotencyKey);
    return this.call('POST', `/${c.action}`, { reason: c.reason }, idempotencyKey);
  }
}
