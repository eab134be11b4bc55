import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';

/** The advisory-lock namespace of contact sync (the first key of the two-key form). */
const SYNC_LOCK_NAMESPACE = 0x504d4352; // 'PMCR'

/** PostgreSQL's answer when lock_timeout ends a wait. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * At most one sync of a connection at a time, across every worker on every machine: a PostgreSQL session advisory
 * lock per connection, held on its own connection for the whole run. A worker that dies loses its session and so
 * its lock; no lease to expire, no stale flag to clean.
 */
@Injectable()
export class SyncLocks implements OnApplicationShutdown {
  private pool?: Pool;

  constructor(@Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: CrmIntegrationsOptions) {}

  private getPool(): Pool {
    if (!this.pool) {
      this.pool = new Pool({
        connectionString: this.options.database.clientUrl,
        max: 10,
        application_name: 'pmcrm-sync-locks',
      });
      // An idle session ended by the server (PostgreSQL restarted) is dropped from the pool; unheard, the pool's
      // 'error' event would end the process.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  /**
   * Runs `work` holding the connection's lock; returns `{ acquired: false }` at once when another holds it, or, with
   * `waitMs`, when it is still held after that long. Waiters are served in order by PostgreSQL, ahead of later
   * callers that do not wait: real-time work that waits its turn is not overtaken again and again by a stream of
   * other short holders. When the session holding the lock ends (PostgreSQL restarted, the session was terminated),
   * the lock is gone: `lockLost` aborts, and `work` must stop, since another worker may now take the connection.
   */
  async withConnectionLock<T>(
    connectionId: string,
    work: (lockLost: AbortSignal) => Promise<T>,
    options: { waitMs?: number } = {},
  ): Promise<{ acquired: true; result: T } | { acquired: false }> {
    const client = await this.getPool().connect();
    const lost = new AbortController();
    let sessionError: Error | undefined;
    const onSessionError = (error: Error) => {
      sessionError = error;
      lost.abort(new Error(`the database session holding the sync lock ended (${error.message})`));
    };
    client.on('error', onSessionError);
    let locked = false;
    try {
      locked = await this.lock(client, connectionId, Math.max(0, Math.round(options.waitMs ?? 0)));
      if (!locked) return { acquired: false };
      return { acquired: true, result: await work(lost.signal) };
    } finally {
      if (locked && !sessionError) {
        await client
          .query('select pg_advisory_unlock($1::int, hashtext($2))', [SYNC_LOCK_NAMESPACE, connectionId])
          .catch(() => undefined);
      }
      client.off('error', onSessionError);
      // A session that failed is discarded, not handed to the next caller.
      client.release(sessionError);
    }
  }

  /** Takes the lock on `client`'s session: at once or not at all, or waiting up to `waitMs` (lock_timeout). */
  private async lock(client: PoolClient, connectionId: string, waitMs: number): Promise<boolean> {
    if (waitMs === 0) {
      const answer = await client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock($1::int, hashtext($2)) as locked',
        [SYNC_LOCK_NAMESPACE, connectionId],
      );
      return answer.rows[0]?.locked === true;
    }
    await client.query(`set lock_timeout = ${waitMs}`);
    try {
      await client.query('select pg_advisory_lock($1::int, hashtext($2))', [
        SYNC_LOCK_NAMESPACE,
        connectionId,
      ]);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) return false;
      throw error;
    } finally {
      // The session goes back to the pool: later users get the server's default.
      await client.query('reset lock_timeout').catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }
}
