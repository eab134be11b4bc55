import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { SyncRun } from '@pm/domain';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { ContactSyncRunner, type SyncConnection } from '@pm/sync-engine';
import { CRM_ORM } from '../../src/crm-integrations';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../../src/crm-integrations/repositories';
import { LocalContactStoreAdapter } from '../../src/crm-integrations/sync/local-contact-store';
import { toSyncConnection } from '../../src/crm-integrations/sync/sync-executor';
import { seedConnection, startSyncTestApp } from '../../src/crm-integrations/sync/testing/sync-test-app';

/** One key for every app of a test file, so a restarted app opens what the previous one sealed. */
const ENCRYPTION_KEY = randomBytes(32);

/** The feature module on a database (a restart is another call on the same database), the platform token set. */
export function startFeatureApp(
  databaseUrl: string,
  platformServiceToken: string,
  options: { workers?: boolean; allowPrivateWebhookReceivers?: boolean } = {},
): Promise<INestApplication> {
  return startSyncTestApp({
    databaseUrl,
    connectors: {},
    platformServiceToken,
    workers: options.workers,
    allowPrivateWebhookReceivers: options.allowPrivateWebhookReceivers ?? true,
    encryptionKey: ENCRYPTION_KEY,
    sessions: {
      getSession: () => Promise.reject(new Error('unused')),
      refreshSession: () => Promise.reject(new Error('unused')),
    },
  });
}

export async function seedSyncConnection(
  app: INestApplication,
  tenantId: string,
  provider: string,
): Promise<SyncConnection> {
  return toSyncConnection(
    await seedConnection(app, { tenantId, provider, settings: { objects: ['contacts'] } }),
  );
}

/**
 * One sync run of the real engine in `app`, through its local contact store (the one that writes the change feed),
 * with a real connector against its sandbox and a fixed session standing in for the token vault.
 */
export async function syncOnce(
  app: INestApplication,
  port: IntegrationPort,
  session: CrmSession,
  connection: SyncConnection,
) {
  const em = app.get<MikroORM>(CRM_ORM).em.fork();
  const row = em.create(SyncRun, {
    tenant: connection.tenantId,
    connection: connection.id,
    trigger: 'manual',
  });
  await em.flush();
  const outcome = await new ContactSyncRunner({
    port,
    sessions: { getSession: async () => session, refreshSession: async () => session },
    links: app.get(RecordLinkRepository),
    cursors: app.get(SyncCursorRepository),
    locals: app.get(LocalContactStoreAdapter),
    retries: app.get(SyncRetryRepository),
    log: app.get(SyncLogRepository),
    options: { sleep: async () => undefined },
  }).run({ connection, runId: row.id });
  if (outcome.status !== 'succeeded')
    throw new Error(`sync ${outcome.status}: ${String(outcome.error ?? '')}`);
  return outcome;
}
