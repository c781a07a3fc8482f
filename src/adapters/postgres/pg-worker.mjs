// The worker thread behind SyncPg (sync-bridge.ts): it owns one `pg` client and runs each request's steps in
// order on it, then posts the answer and wakes the main thread, which is blocked in Atomics.wait. Plain
// JavaScript on purpose: a worker thread does not inherit tsx's loader, and this file needs no types.
import { workerData } from 'node:worker_threads';
import pg from 'pg';

const { port, flag: sab, url, lockTimeoutMs } = workerData;
const flag = new Int32Array(sab);
// int8 (BIGINT: epoch ms, sequence numbers, count(*)) as a JS number: every one of them is below 2^53
const types = { getTypeParser: (oid, format) => (oid === 20 ? (v) => (v === null ? null : Number(v)) : pg.types.getTypeParser(oid, format)) };
const client = new pg.Client({ connectionString: url, types, application_name: 'tollgate' });
let broken = null;
client.on('error', (e) => (broken = e));
const ready = client.connect().then(
  () => client.query(`SET lock_timeout = ${Number(lockTimeoutMs) | 0}`).then(() => null),
  (e) => e,
);

const errorOf = (e) => ({ message: e instanceof Error ? e.message : String(e), code: e?.code ?? null, detail: e?.detail ?? null });

port.on('message', async (req) => {
  let answer;
  try {
    const failed = (await ready) ?? broken;
    if (failed) throw failed;
    if (req.close) {
      await client.end();
      answer = { id: req.id, results: [] };
    } else {
      const results = [];
      for (const s of req.steps) {
        const r = await client.query({ text: s.sql, values: s.params ?? [] });
        results.push({ rows: r.rows ?? [], rowCount: r.rowCount ?? 0 });
      }
      answer = { id: req.id, results };
    }
  } catch (e) {
    answer = { id: req.id, error: errorOf(e) };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
