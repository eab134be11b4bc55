import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CrmError, INTEGRATION_PORTS, type IntegrationPortMap } from '@pm/integration-port';
import {
  ContactPushRunner,
  type ContactSyncOutcome,
  type FieldMappingSource,
  type SessionProvider,
} from '@pm/sync-engine';
import { rateLimitedPort } from '../rate-limits/rate-limited-port';
import {
  ConnectionRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from '../sync/local-contact-store';
import { RateBudgetFactory, budgetAccountKey } from '../sync/rate-budget.factory';
import { EngineFieldMappings } from '../mappings/engine-field-mappings';
import { toSyncConnection } from '../sync/sync-executor';
import { SyncLocks } from '../sync/sync-locks';
import { SyncRuns } from '../sync/sync-runs';
import { SYNC_SESSION_PROVIDER } from '../sync/sync.tokens';
import { ContactPushQueue } from './contact-push.queue';
import { isRealtime, type ContactPushJob } from './contact-push.tokens';

/** What one connection's push did: pushed, handed back (busy), or nothing to do. */
export type PushResult = { connectionId: string } & (
  | { kind: 'pushed'; outcome: ContactSyncOutcome }
  | { kind: 'busy' | 'skipped' }
);

/**
 * Runs fetched push jobs: grouped per connection, each group is one push of its contacts under the connection's
 * lock (a sync in progress hands the jobs back for a little later) on the rate budget's interactive share, through
 * the engine's outbound path for just those contacts.
 */
@Injectable()
export class ContactPushExecutor {
  private readonly logger = new Logger('ContactPushExecutor');

  constructor(
    private readonly queue: ContactPushQueue,
    private readonly connections: ConnectionRepository,
    private readonly runs: SyncRuns,
    private readonly locks: SyncLocks,
    private readonly budgets: RateBudgetFactory,
    private readonly links: RecordLinkRepository,
    private readonly cursors: SyncCursorRepository,
    private readonly retries: SyncRetryRepository,
    private readonly log: SyncLogRepository,
    private readonly locals: LocalContactStoreAdapter,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
    @Optional() @Inject(SYNC_SESSION_PROVIDER) private readonly sessions?: SessionProvider,
    @Optional() @Inject(EngineFieldMappings) private readonly mappings?: FieldMappingSource,
  ) {}

  async handle(jobs: ContactPushJob[]): Promise<PushResult[]> {
    const byConnection = new Map<string, ContactPushJob[]>();
    for (const job of jobs)
      byConnection.set(job.connectionId, [...(byConnection.get(job.connectionId) ?? []), job]);
    const results: PushResult[] = [];
    for (const [connectionId, group] of byConnection) {
      // A lock whose database session ends (PostgreSQL restarted) stops the push after its current batch.
      const locked = await this.locks.withConnectionLock(connectionId, (lockLost) =>
        this.push(connectionId, group, lockLost),
      );
      if (locked.acquired) results.push(locked.result);
      else {
        await this.queue.handBack(group);
        results.push({ connectionId, kind: 'busy' });
      }
    }
    return results;
  }

  private async push(
    connectionId: string,
    jobs: ContactPushJob[],
    lockLost: AbortSignal,
  ): Promise<PushResult> {
    const connection = await this.connections.findById(connectionId);
    const port = connection && this.ports?.[connection.provider];
    if (!connection || !port || !this.sessions || !isRealtime(connection.settings)) {
      return { connectionId, kind: 'skipped' };
    }
    if (await this.runs.whyNotRunnable(connection)) return { connectionId, kind: 'skipped' };
    const budget = this.budgets.forAccount(budgetAccountKey(connection), port.capabilities().rateLimits, {
      whenDailyExhausted: 'signal',
    });
    const outcome = await new ContactPushRunner({
      port: rateLimitedPort(port, budget, 'interactive'),
      sessions: this.sessions,
      links: this.links,
      cursors: this.cursors,
      locals: this.locals,
      retries: this.retries,
      log: this.log,
      mappings: this.mappings,
    }).run({
      connection: toSyncConnection(connection),
      contactIds: jobs.map((job) => job.contactId),
      pushId: `push:${randomUUID()}`,
      signal: lockLost,
    });
    if (outcome.status === 'failed') {
      // Nothing is lost: the contacts' changes are still ahead of the outbound cursor, so the next sync writes them.
      const reason =
        outcome.error instanceof CrmError
          ? `${outcome.error.code}: ${outcome.error.message}`
          : String(outcome.error);
      this.logger.warn(
        `Immediate push to connection ${connectionId} failed (left to the next sync): ${reason}`,
      );
    }
    return { connectionId, kind: 'pushed', outcome };
  }
}
