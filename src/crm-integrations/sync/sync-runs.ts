import { Inject, Injectable } from '@nestjs/common';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import {
  CrmConnection,
  ProviderSetting,
  RecordLink,
  SyncLogEntry,
  SyncRun,
  Tenant,
  type SyncTrigger,
} from '@pm/domain';
import { CRM_ORM } from '../database/crm-database';
import { SyncQueue } from './sync-queue';

/** A failure's kind is kept as the error's prefix ("transient: RATE_LIMITED: …"), so health can count a streak. */
export const TRANSIENT_ERROR_PREFIX = 'transient: ';

/** The queue expires jobs after 6 hours; a `queued` run older than that lost its job. */
const QUEUED_RUN_STALE_MS = 6 * 3_600_000;

/**
 * Sync runs and the connection facts scheduling needs. Every method forks its own entity manager: it is called
 * from workers and the scheduler as well as from HTTP requests.
 */
@Injectable()
export class SyncRuns {
  constructor(
    @Inject(CRM_ORM) private readonly orm: MikroORM,
    private readonly queue: SyncQueue,
  ) {}

  fork(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  /**
   * Queues a run of the connection, recorded as a `queued` SyncRun. When a run is already waiting for this
   * connection, nothing new is queued and that run is returned (`queued: false`).
   */
  async request(
    connection: { id: string; tenantId: string },
    trigger: SyncTrigger,
    options: { startAfter?: Date; priority?: number } = {},
  ): Promise<{ run: SyncRun; queued: boolean }> {
    // A run waiting for this connection is the follow-up; its row stays `queued` until a worker starts it, also
    // while its job is handed back because the connection is busy on another worker.
    const waiting = await this.waitingRun(connection.id);
    if (waiting) return { run: waiting, queued: false };
    const em = this.fork();
    const run = em.create(SyncRun, {
      tenant: em.getReference(Tenant, connection.tenantId),
      connection: em.getReference(CrmConnection, connection.id),
      trigger,
      status: 'queued',
    });
    await em.flush();
    const jobId = await this.queue.enqueue(
      { connectionId: connection.id, tenantId: connection.tenantId, runId: run.id },
      options,
    );
    if (jobId) return { run, queued: true };
    // Another request queued one at the same instant (the queue keeps one waiting job per connection).
    em.remove(run);
    await em.flush();
    return { run: (await this.waitingRun(connection.id)) ?? run, queued: false };
  }

  /** The queued run of the connection, if any; older than the queue's job expiry, it is stale and ignored. */
  private waitingRun(connectionId: string): Promise<SyncRun | null> {
    return this.fork().findOne(
      SyncRun,
      {
        connection: connectionId,
        status: 'queued',
        queuedAt: { $gt: new Date(Date.now() - QUEUED_RUN_STALE_MS) },
      },
      { orderBy: { queuedAt: 'desc' } },
    );
  }

  /** Failed runs in a row, most recent first, whose failure was transient (for the health machine). */
  async transientFailureStreak(connectionId: string): Promise<number> {
    const recent = await this.fork().find(
      SyncRun,
      { connection: connectionId, finishedAt: { $ne: null } },
      { orderBy: { finishedAt: 'desc' }, limit: 20, fields: ['status', 'error'] },
    );
    let streak = 0;
    for (const run of recent) {
      if (run.status !== 'failed' || !run.error?.startsWith(TRANSIENT_ERROR_PREFIX)) break;
      streak++;
    }
    return streak;
  }

  /** Whether the admin switched the provider off, for this tenant or globally (a tenant row overrides). */
  async providerEnabled(em: EntityManager, provider: string, tenantId: string): Promise<boolean> {
    const settings = await em.find(ProviderSetting, {
      provider,
      $or: [{ tenant: tenantId }, { tenant: null }],
    });
    const forTenant = settings.find((setting) => setting.tenant);
    const global = settings.find((setting) => !setting.tenant);
    return (forTenant ?? global)?.enabled ?? true;
  }

  /** Why the connection may not sync now, or null when it may. */
  async whyNotRunnable(em: EntityManager, connection: CrmConnection): Promise<string | null> {
    if (connection.status !== 'connected') return `the connection is ${connection.status}`;
    const tenant = await em.findOne(Tenant, { id: connection.tenant.id });
    if (!tenant?.active) return 'the tenant is inactive';
    if (!(await this.providerEnabled(em, connection.provider, connection.tenant.id))) {
      return `${connection.provider} is disabled by an administrator`;
    }
    return null;
  }

  async listRuns(connectionId: string, limit: number): Promise<SyncRun[]> {
    return this.fork().find(SyncRun, { connection: connectionId }, { orderBy: { queuedAt: 'desc' }, limit });
  }

  /** Every link of the contact in this connection (unlinked ones too), newest first. */
  async contactLinks(connectionId: string, contactId: string): Promise<RecordLink[]> {
    return this.fork().find(
      RecordLink,
      { connection: connectionId, localObject: 'contact', localId: contactId },
      { orderBy: { createdAt: 'desc' } },
    );
  }

  async listLog(connectionId: string, limit: number, runId?: string): Promise<SyncLogEntry[]> {
    return this.fork().find(
      SyncLogEntry,
      { connection: connectionId, ...(runId ? { run: runId } : {}) },
      { orderBy: { id: 'desc' }, limit },
    );
  }
}
