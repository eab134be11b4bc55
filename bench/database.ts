import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/standalone/embedded-postgres';

/** A PostgreSQL server the benchmark makes its databases on: `DATABASE_URL`'s, or an embedded one it started. */
export interface BenchDatabaseServer {
  /** URL of the server's maintenance database; databases are made beside it. */
  url: string;
  stop(): Promise<void>;
}

export async function startDatabaseServer(
  databaseUrl = process.env.DATABASE_URL,
): Promise<BenchDatabaseServer> {
  if (databaseUrl) return { url: databaseUrl, stop: async () => undefined };
  // The same embedded PostgreSQL 17 `npm start` and the Jest global setup use, on a throw-away cluster.
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-crm-bench-pg-'));
  const server = await startEmbeddedPostgres({ dataDir, persistent: false });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on `serverUrl` for one benchmark process, dropped by `drop()`: runs never see old rows. */
export async function createBenchDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `pmcrm_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
