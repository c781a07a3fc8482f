/**
 * A synchronous PostgreSQL connection for the synchronous store ports (LedgerStore.write(fn) returns fn's
 * value; the engine relies on that). A worker thread (pg-worker.mjs) owns one `pg` client; each call posts
 * its statements to it over a MessageChannel and blocks this thread in Atomics.wait on a SharedArrayBuffer
 * until the worker has answered, then takes the answer with receiveMessageOnPort. This is the mechanism of
 * the `synckit` library, in ~100 lines we test here, without its TypeScript-runner detection (a worker does
 * not inherit tsx's loader, so the worker is plain JavaScript) and with a per-call deadline.
 *
 * Statements that need no answer (BEGIN, SAVEPOINT, RELEASE) are deferred and sent with the next call, so a
 * nested write costs no extra round trip; an error in one of them is the error of that next call.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export interface PgStep {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

export interface PgResult<R = Record<string, unknown>> {
  readonly rows: R[];
  readonly rowCount: number;
}

/** A PostgreSQL error as the worker saw it: its message and SQLSTATE (or a Node error code such as ECONNREFUSED). */
export class PgCallError extends Error {
  constructor(message: string, readonly code: string | null, readonly detail: string | null) {
    super(message);
    this.name = 'PgCallError';
  }
}

interface Answer {
  readonly id: number;
  readonly results?: PgResult[];
  readonly error?: { message: string; code: string | null; detail: string | null };
}

export interface SyncPgOptions {
  /** how long one call may take before it fails (default 30 s) */
  readonly callTimeoutMs?: number;
  /** PostgreSQL's lock_timeout for this session: how long a writer waits for another's transaction (default 10 s) */
  readonly lockTimeoutMs?: number;
}

export class SyncPg {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly deferred: PgStep[] = [];
  private nextId = 1;
  private closed = false;
  private readonly timeoutMs: number;

  constructor(url: string, o: SyncPgOptions = {}) {
    this.timeoutMs = o.callTimeoutMs ?? 30_000;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./pg-worker.mjs', import.meta.url), {
      workerData: { port: port2, flag: this.flag.buffer, url, lockTimeoutMs: o.lockTimeoutMs ?? 10_000 },
      transferList: [port2],
    });
    // neither keeps the process alive: close() ends them, and a process that forgot to still exits
    this.worker.unref();
    this.port.unref();
  }

  /** Queues a statement whose answer nobody needs; it runs first thing in the next call. */
  defer(sql: string): void {
    this.deferred.push({ sql });
  }

  /** Runs the deferred statements and then `steps`, in order, on the one connection; blocks until answered. */
  run(steps: readonly PgStep[]): PgResult[] {
    if (this.closed) throw new PgCallError('the PostgreSQL connection is closed', 'CLOSED', null);
    const all = this.deferred.splice(0).concat(steps);
    const id = this.nextId++;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id, steps: all });
    const answer = this.await(id);
    if (answer.error) throw new PgCallError(answer.error.message, answer.error.code, answer.error.detail);
    return answer.results!.slice(all.length - steps.length);
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): PgResult<R> {
    return this.run([{ sql, params }])[0] as PgResult<R>;
  }

  /** Sends the deferred statements, if any. */
  flush(): void {
    if (this.deferred.length) this.run([]);
  }

  private await(id: number): Answer {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const mine = this.take(id);
      if (mine) return mine;
      // re-armed before the last look, so that an answer posted in between is not slept through
      Atomics.store(this.flag, 0, 0);
      const late = this.take(id);
      if (late) return late;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, 0, left) === 'timed-out') {
        throw new PgCallError(`PostgreSQL did not answer within ${this.timeoutMs} ms`, 'TIMEOUT', null);
      }
    }
  }

  /** the answer to call `id` if it has arrived; answers to earlier calls that timed out are dropped */
  private take(id: number): Answer | null {
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      if ((m.message as Answer).id === id) return m.message as Answer;
    }
    return null;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.deferred.length = 0;
      const id = this.nextId++;
      Atomics.store(this.flag, 0, 0);
      this.port.postMessage({ id, close: true });
      this.timeoutClose(id);
    } finally {
      this.closed = true;
      this.port.close();
      void this.worker.terminate();
    }
  }

  private timeoutClose(id: number): void {
    try {
      this.await(id);
    } catch {
      /* closing anyway */
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }
}
