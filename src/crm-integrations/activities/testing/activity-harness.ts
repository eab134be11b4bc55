import type { INestApplication } from '@nestjs/common';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import {
  ActivityDelivery,
  Contact,
  CrmConnection,
  type ConnectionSettings,
  DEFAULT_CONNECTION_SETTINGS,
  SyncLogEntry,
  SyncRun,
  Tenant,
} from '@pm/domain';
import { CrmError, CrmErrorCode, type CrmSession, type IntegrationPort } from '@pm/integration-port';
import { ContactSyncRunner, type SessionProvider } from '@pm/sync-engine';
import { CRM_ORM } from '../../database/crm-database';
import { toSyncConnection } from '../../sync/sync-executor';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../../repositories';
import { LocalContactStoreAdapter } from '../../sync/local-contact-store';
import { ActivityDeliveryService } from '../activity-delivery.service';
import { ActivityIngestService } from '../activity-ingest.service';
import { ActivitySummaryService } from '../activity-summary.service';

/** Sessions as the token vault would hand them out; `revoke()` makes the next refresh fail as invalid_grant does. */
export class TestSessions implements SessionProvider {
  current?: CrmSession;
  private revoked = false;

  revoke(): void {
    this.revoked = true;
  }

  reconnect(session: CrmSession): void {
    this.current = session;
    this.revoked = false;
  }

  async getSession(): Promise<CrmSession> {
    if (!this.current) throw new Error('not connected');
    return this.current;
  }

  async refreshSession(): Promise<CrmSession> {
    if (this.revoked || !this.current)
      throw new CrmError(CrmErrorCode.AUTH_REVOKED, 'invalid_grant: the refresh token was revoked');
    return this.current;
  }
}

/**
 * A rate budget clock that never waits: a sleep returns at once and moves `now` on by the time it was asked to
 * wait, so the budget sees its windows pass (HubSpot's 10 s, Pipedrive's 2 s) without the test waiting them out.
 */
export function steppingBudgetClock(start = Date.now()) {
  let nowMs = start;
  return {
    now: () => nowMs,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      nowMs += Math.max(0, ms);
    },
  };
}

/** A port that runs a hook after each `logActivities` answer (to revoke access mid-delivery). */
export function hookedPort(
  port: IntegrationPort,
  hooks: { afterLogActivities?: () => void },
): IntegrationPort {
  const hooked = Object.create(port) as IntegrationPort;
  hooked.logActivities = async (session, activities) => {
    const results = await port.logActivities(session, activities);
    hooks.afterLogActivities?.();
    return results;
  };
  return hooked;
}

/** One tenant with one connection to the bed's CRM, and what a test does with it. */
export async function activityHarness(
  app: INestApplication,
  port: IntegrationPort,
  sessions: SessionProvider,
  tenantId: string,
  contactObject: string,
  settings: Partial<ConnectionSettings> = {},
) {
  const orm = app.get<MikroORM>(CRM_ORM);
  const em = orm.em.fork();
  const tenant = em.create(Tenant, { id: tenantId, name: tenantId });
  const entity = em.create(CrmConnection, {
    tenant,
    provider: port.provider,
    status: 'connected',
    connectedAt: new Date(),
    settings: {
      ...DEFAULT_CONNECTION_SETTINGS,
      objects: [contactObject],
      direction: 'from_crm',
      ...settings,
    },
  });
  await em.flush();
  const connection = toSyncConnection(entity);

  /** A contact sync run: what links CRM contacts to PenguinMails contacts. */
  const sync = async () => {
    const fork = orm.em.fork();
    const run = fork.create(SyncRun, { tenant: tenantId, connection: connection.id, trigger: 'manual' });
    await fork.flush();
    const outcome = await new ContactSyncRunner({
      port,
      sessions,
      links: app.get(RecordLinkRepository),
      cursors: app.get(SyncCursorRepository),
      locals: app.get(LocalContactStoreAdapter),
      retries: app.get(SyncRetryRepository),
      log: app.get(SyncLogRepository),
      options: { sleep: async () => undefined },
    }).run({ connection, runId: run.id });
    if (outcome.status !== 'succeeded') throw new Error(`sync ${outcome.status}: ${String(outcome.error)}`);
  };
  const ingest = (events: Record<string, unknown>[]) =>
    RequestContext.create(orm.em, () =>
      app.get(ActivityIngestService).ingest({ actor: 'test', tenantId: null }, tenantId, events),
    );
  const deliver = () => app.get(ActivityDeliveryService).deliver(connection.id);
  /** What the Sync Activity page shows for the connection. */
  const summary = () =>
    RequestContext.create(orm.em, () =>
      app.get(ActivitySummaryService).summary({ actor: 'test', tenantId: null }, tenantId, connection.id, 1),
    );
  /** Event id → its delivery's status and CRM record id. */
  const deliveries = async () => {
    const rows = await orm.em
      .fork()
      .find(ActivityDelivery, { connection: connection.id }, { populate: ['event'] });
    return new Map(
      rows.map((row) => [
        row.event.eventId,
        { status: row.status, crmId: row.crmId ?? null, error: row.lastError },
      ]),
    );
  };
  const logMessages = async () =>
    (
      await orm.em
        .fork()
        .find(SyncLogEntry, { connection: connection.id, object: 'activity' }, { orderBy: { id: 'asc' } })
    ).map((entry) => entry.message);
  /** A PenguinMails contact, as the backend's contact API would store it. */
  const addLocalContact = async (email: string, firstName: string, lastName: string) => {
    const fork = orm.em.fork();
    fork.create(Contact, { tenant: tenantId, email, firstName, lastName });
    await fork.flush();
  };
  const localContact = (email: string) => orm.em.fork().findOne(Contact, { tenant: tenantId, email });
  /** Every sync log line of the connection (contact creation and updates as well as activities). */
  const allLogMessages = async () =>
    (await orm.em.fork().find(SyncLogEntry, { connection: connection.id }, { orderBy: { id: 'asc' } })).map(
      (entry) => entry.message,
    );
  return {
    connection,
    sync,
    ingest,
    deliver,
    summary,
    deliveries,
    logMessages,
    allLogMessages,
    addLocalContact,
    localContact,
  };
}

let sequence = 0;

/** An e-mail event as the PenguinMails backend sends it. */
export function emailEvent(
  type: string,
  email: string,
  messageId: string,
  minute: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  sequence++;
  return {
    eventId: `evt-${type}-${sequence}`,
    type,
    messageId,
    campaignId: 'cmp_spring',
    email,
    subject: `Spring offer for ${email.split('@')[0]}`,
    occurredAt: new Date(Date.UTC(2026, 11, 5, 9, minute)).toISOString(),
    ...extra,
  };
}
