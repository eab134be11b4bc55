import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SyncLocks } from './sync-locks';
import { SyncQueue } from './sync-queue';
import { SyncRuns } from './sync-runs';

/** How often a worker process looks for runs whose worker died. */
export const ORPHAN_CHECK_MS = 60_000;

export const ORPHANED_RUN_REASON =
  'The worker running this sync stopped (it crashed or was killed) before the run finished; the next run ' +
  'resumes from the last saved cursor.';

/**
 * Ends runs cut short by a crash. A running sync holds its connection's advisory lock on its own database session
 * for the whole run (SyncLocks), so that session is the worker's heartbeat: when the process dies, PostgreSQL ends
 * the session and frees the lock. A `running` run whose connection's lock nobody holds has no worker any more: it
 * ends as failed with the reason, its queue job fails with it (instead of staying active until pg-boss's 6-hour
 * expiry), and its connection is due again at once. Checked when a worker process starts and every minute.
 */
@Injectable()
export class SyncRunReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SyncRunReaper');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly runs: SyncRuns,
    private readonly locks: SyncLocks,
    private readonly queue: SyncQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reapOrphanedRuns().catch((error: unknown) =>
      this.logger.warn(`Checking for orphaned runs failed: ${error instanceof Error ? error.name : error}`),
    );
    this.timer = setInterval(() => void this.reapOrphanedRuns().catch(() => undefined), ORPHAN_CHECK_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Fails every `running` run whose worker is gone; returns their ids. */
  async reapOrphanedRuns(): Promise<string[]> {
    const running = await this.runs.findRunning();
    const reaped: string[] = [];
    for (const candidate of running) {
      const connectionId = candidate.connectionId;
      // Holding the lock ourselves proves no live worker runs this connection; inside it, nothing can start one.
      const locked = await this.locks.withConnectionLock(connectionId, async () => {
        const failed = await this.runs.failOrphaned(candidate.id, connectionId, ORPHANED_RUN_REASON);
        if (failed) await this.queue.failActiveJobsOfRun(candidate.id, ORPHANED_RUN_REASON);
        return failed;
      });
      if (locked.acquired && locked.result) {
        reaped.push(candidate.id);
        this.logger.warn(`Sync run ${candidate.id} of connection ${connectionId} lost its worker: failed`);
      }
    }
    return reaped;
  }
}
