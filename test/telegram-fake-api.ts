/**
 * A fake Telegram Bot API server on 127.0.0.1 for the Telegram tests (grammY's `client.apiRoot` points at
 * it): getMe, deleteWebhook, long-polled getUpdates from a queue the test fills, sendMessage,
 * editMessageText, answerCallbackQuery. Every call is recorded. A wrong token gets 401 like Telegram's.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiCall {
  readonly method: string;
  readonly body: Record<string, any>;
}

export class FakeBotApi {
  readonly calls: ApiCall[] = [];
  private readonly updates: Array<Record<string, unknown>> = [];
  private nextUpdate = 1;
  private nextMessage = 100;
  private waiters: Array<() => void> = [];
  private server: Server | null = null;
  /** methods that answer 500 once (error paths) */
  readonly failOnce = new Set<string>();
  root = '';

  constructor(readonly token: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.root = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  /** A text message from a user in a private chat (chat id = user id). */
  text(chatId: number, text: string): void {
    this.push({ message: { message_id: this.nextMessage++, date: 1_700_000_000, chat: { id: chatId, type: 'private', first_name: 'op' }, from: { id: chatId, is_bot: false, first_name: 'op' }, text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {}) } });
  }

  /** A press of an inline button under the bot's message. */
  press(chatId: number, messageId: number, data: string): void {
    this.push({
      callback_query: {
        id: `cb${this.nextUpdate}`, from: { id: chatId, is_bot: false, first_name: 'op' }, chat_instance: 'x', data,
        message: { message_id: messageId, date: 1_700_000_000, chat: { id: chatId, type: 'private', first_name: 'op' }, from: { id: 1, is_bot: true, first_name: 'Tollgate' }, text: 'confirm?' },
      },
    });
  }

  /** Messages the bot sent or edited to, in order. */
  sent(chatId?: number): ApiCall[] {
    return this.calls.filter((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && (chatId === undefined || c.body.chat_id === chatId));
  }

  /** Waits until the bot has sent `n` messages (sent + edited) to the chat; returns the last. */
  async waitSent(chatId: number, n: number, ms = 5000): Promise<ApiCall> {
    const until = Date.now() + ms;
    while (this.sent(chatId).length < n) {
      if (Date.now() > until) throw new Error(`timed out waiting for message ${n} to chat ${chatId}; got ${JSON.stringify(this.sent(chatId).map((c) => c.body.text))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.sent(chatId)[n - 1]!;
  }

  private push(u: Record<string, unknown>): void {
    this.updates.push({ update_id: this.nextUpdate++, ...u });
    for (const w of this.waiters.splice(0)) w();
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, any>) : {};
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!m) return [404, { ok: false, error_code: 404, description: 'Not Found' }];
    const [, token, method] = m;
    this.calls.push({ method: method!, body });
    if (token !== this.token) return [401, { ok: false, error_code: 401, description: 'Unauthorized' }];
    if (this.failOnce.delete(method!)) return [500, { ok: false, error_code: 500, description: 'Internal Server Error: injected' }];
    switch (method) {
      case 'getMe':
        return [200, { ok: true, result: { id: 1, is_bot: true, first_name: 'Tollgate', username: 'tollgate_test_bot', can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false } }];
      case 'deleteWebhook':
      case 'answerCallbackQuery':
        return [200, { ok: true, result: true }];
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        const ready = () => this.updates.filter((u) => (u.update_id as number) >= offset);
        if (!ready().length && Number(body.timeout ?? 0) > 0) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, Math.min(Number(body.timeout) * 1000, 500));
            this.waiters.push(() => {
              clearTimeout(t);
              r();
            });
          });
        }
        return [200, { ok: true, result: ready().slice(0, Number(body.limit ?? 100)) }];
      }
      case 'sendMessage':
        return [200, { ok: true, result: { message_id: this.nextMessage++, date: 1_700_000_000, chat: { id: body.chat_id, type: 'private' }, text: body.text } }];
      case 'editMessageText':
        return [200, { ok: true, result: { message_id: body.message_id, date: 1_700_000_000, chat: { id: body.chat_id, type: 'private' }, text: body.text } }];
      default:
        return [400, { ok: false, error_code: 400, description: `Bad Request: method ${method} not in the fake` }];
    }
  }
}
