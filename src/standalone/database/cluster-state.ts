import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What is left of an embedded cluster in its folder: PostgreSQL's own `postmaster.pid` (pid, port, status) and
 * our `owner.pid` (the service process that started it). Together they tell a cluster in use by a running
 * service (join it) from one a killed service left behind (stop it) and from a stale lock file (remove it).
 */
export type ClusterState =
  | { kind: 'stopped' }
  | { kind: 'running'; postmasterPid: number; port: number; ownerPid: number }
  | { kind: 'orphaned'; postmasterPid: number; port: number }
  | { kind: 'stale-lock' };

/** A zombie (exited, not yet reaped by a parent that is gone) answers signals but is no server any more. */
function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    // EPERM: alive but someone else's (the postgres user's server, seen from a non-root process).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` is a postgres server (Linux /proc; elsewhere any live pid counts). */
function isPostgres(pid: number): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc')) return isAlive(pid);
  try {
    return readFileSync(cmdline, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}

const postmasterFile = (clusterDir: string) => join(clusterDir, 'postmaster.pid');
const ownerFile = (clusterDir: string) => join(clusterDir, '..', 'owner.pid');

/** postmaster.pid: line 1 the pid, line 4 the port, line 8 the status ("ready" once it accepts connections). */
export function readPostmaster(
  clusterDir: string,
): { pid: number; port: number; status: string } | undefined {
  if (!existsSync(postmasterFile(clusterDir))) return undefined;
  const lines = readFileSync(postmasterFile(clusterDir), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]), status: (lines[7] ?? '').trim() };
}

function readOwner(clusterDir: string): number | undefined {
  if (!existsSync(ownerFile(clusterDir))) return undefined;
  const pid = Number(readFileSync(ownerFile(clusterDir), 'utf8'));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function clusterState(clusterDir: string): ClusterState {
  const postmaster = readPostmaster(clusterDir);
  if (!postmaster) return { kind: 'stopped' };
  if (!Number.isInteger(postmaster.pid) || !isPostgres(postmaster.pid)) return { kind: 'stale-lock' };
  const ownerPid = readOwner(clusterDir);
  if (ownerPid !== undefined && ownerPid !== process.pid && isAlive(ownerPid)) {
    return { kind: 'running', postmasterPid: postmaster.pid, port: postmaster.port, ownerPid };
  }
  return { kind: 'orphaned', postmasterPid: postmaster.pid, port: postmaster.port };
}

export function claimCluster(clusterDir: string): void {
  writeFileSync(ownerFile(clusterDir), String(process.pid));
}

export function releaseCluster(clusterDir: string): void {
  if (readOwner(clusterDir) === process.pid) rmSync(ownerFile(clusterDir), { force: true });
}

export function removeStaleLock(clusterDir: string): void {
  rmSync(postmasterFile(clusterDir), { force: true });
}

/** Resolves once `pid` has exited; polls because it is not our child (a previous run started it). */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolveTick) => setTimeout(resolveTick, 100));
  }
  return true;
}
