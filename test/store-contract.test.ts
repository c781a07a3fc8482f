/**
 * The one state store contract (test/store-contract.ts), run against both adapters: SQLite in a temp file and
 * PostgreSQL in a throwaway cluster (test/postgres-cluster.ts; skipped, saying so, where no server binaries
 * exist, and a failure then under TOLLGATE_REQUIRE_POSTGRES=1).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { PgStateStore } from '../src/adapters/postgres/state-store.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/state-store.ts';
import { postgresMissing, startPgCluster, type PgCluster } from './postgres-cluster.ts';
import { storeContract } from './store-contract.ts';

storeContract({
  name: 'SQLite',
  skip: () => null,
  fresh: async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-contract-')), 'state.db');
    return { store: SqliteStateStore.open(file), reopen: () => SqliteStateStore.open(file) };
  },
});

let cluster: Promise<PgCluster> | null = null;
let n = 0;
afterAll(async () => {
  if (cluster) (await cluster).stop();
});
storeContract({
  name: 'PostgreSQL',
  skip: postgresMissing,
  fresh: async () => {
    const c = await (cluster ??= startPgCluster());
    const url = await c.createDatabase(`contract_${process.pid}_${++n}`);
    return { store: PgStateStore.open(url), reopen: () => PgStateStore.open(url) };
  },
});
