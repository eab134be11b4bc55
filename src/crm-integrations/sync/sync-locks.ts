import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';

/** The advisory-lock namespace of contact sync (the first key of the two-key form). */
const SYNC_LOCK_NAMESPACE = 0x504d4352; // 'PMCR'

const SHUTTING_DOWN = 'the worker is shutting down';

/**
 * At most one sync of a connection at a time, across every worker on every machine: a PostgreSQL session advisory
 * lock per connection, held on its own connection for the whole run. A worker that dies loses its session and so
 * its lock; no lease to expire, no stale flag to clean.
 */
@Injectable()
export class SyncLocks implements BeforeApplicationShutdown, OnApplicationShutdown {
  private pool?: Pool;
  /** `lockLost` of each lock held now. */
  private readonly held = new Set<AbortController>();
  private stopping = false;

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
   * Runs `work` holding the connection's lock; returns `{ acquired: false }` at once when another holds it. When the
   * session holding the lock ends (PostgreSQL restarted, the session was terminated), the lock is gone: `lockLost`
   * aborts, and `work` must stop, since another worker may now take the connection. It aborts too when the process
   * begins to shut down (at once for work that starts after that): the locks go with the process, and work that went
   * on past the shutdown would hold its job, its pool session and the shutdown itself.
   */
  async withConnectionLock<T>(
    connectionId: string,
    work: (lockLost: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; result: T } | { acquired: false }> {
    const client = await this.getPool().connect();
    const lost = new AbortController();
    let sessionError: Error | undefined;
    const onSessionError = (error: Error) => {
      sessionError = error;
      lost.abort(new Error(`the database session holding the sync lock ended (${error.message})`));
    };
    client.on('error', onSessionError);
    if (this.stopping) lost.abort(new Error(SHUTTING_DOWN));
    this.held.add(lost);
    let locked = false;
    try {
      const answer = await client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock($1::int, hashtext($2)) as locked',
        [SYNC_LOCK_NAMESPACE, connectionId],
      );
      locked = answer.rows[0]?.locked === true;
      if (!locked) return { acquired: false };
      return { acquired: true, result: await work(lost.signal) };
    } finally {
      if (locked && !sessionError) {
        await client
          .query('select pg_advisory_unlock($1::int, hashtext($2))', [SYNC_LOCK_NAMESPACE, connectionId])
          .catch(() => undefined);
      }
      this.held.delete(lost);
      client.off('error', onSessionError);
      // A session that failed is discarded, not handed to the next caller.
      client.release(sessionError);
    }
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const lost of this.held) lost.abort(new Error(SHUTTING_DOWN));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }
}
