import { randomBytes } from 'node:crypto';
import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { CrmConnection, DEFAULT_CONNECTION_SETTINGS, Tenant, type ConnectionSettings } from '@pm/domain';
import type { IntegrationPort } from '@pm/integration-port';
import type { FieldMappingSource, SessionProvider } from '@pm/sync-engine';
import { CrmIntegrationsModule } from '../../crm-integrations.module';
import { CRM_ORM } from '../../database/crm-database';
import { SYNC_EXECUTOR_OPTIONS, SYNC_FIELD_MAPPINGS, type SyncExecutorOptions } from '../sync-executor';
import type { SyncQueueOptions } from '../sync-queue';
import { SyncWorkersModule } from '../sync-workers.module';
import { SYNC_QUEUE_OPTIONS, SYNC_SESSION_PROVIDER } from '../sync.tokens';
import { CONTACT_PUSH_OPTIONS, type ContactPushOptions } from '../../push/contact-push.tokens';

export interface SyncTestAppOptions {
  databaseUrl: string;
  connectors: Record<string, IntegrationPort>;
  sessions: SessionProvider;
  mappings?: FieldMappingSource;
  executor?: SyncExecutorOptions;
  queue?: SyncQueueOptions;
  /** The immediate push's tuning (a test sets no debounce and triggers the push itself). */
  push?: ContactPushOptions;
  /** Run workers (pg-boss `work`) in this app. */
  workers?: boolean;
  platformServiceToken?: string;
  /** The token vault's key; apps started on one database with the same key open each other's secrets. */
  encryptionKey?: Buffer;
  /** Let webhook URLs reach private addresses (a test's receiver listens on 127.0.0.1). */
  allowPrivateWebhookReceivers?: boolean;
  /** More bindings a test needs (activity delivery's tuning, say). */
  providers?: { provide: symbol; useValue: unknown }[];
}

/** What a test binds around the feature module: mappings and tuning, as a host would. */
function testBindings(options: SyncTestAppOptions): DynamicModule {
  @Global()
  @Module({})
  class SyncTestBindings {}
  const providers = [
    { provide: SYNC_FIELD_MAPPINGS, useValue: options.mappings },
    { provide: SYNC_EXECUTOR_OPTIONS, useValue: options.executor ?? {} },
    { provide: SYNC_QUEUE_OPTIONS, useValue: { pollingIntervalSeconds: 0.5, ...options.queue } },
    ...(options.providers ?? []),
    { provide: CONTACT_PUSH_OPTIONS, useValue: options.push ?? {} },
  ];
  return {
    module: SyncTestBindings,
    global: true,
    providers,
    exports: providers.map((provider) => provider.provide),
  };
}

/** The feature module on a test database, with an in-memory connector and session provider bound. */
export async function startSyncTestApp(options: SyncTestAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      testBindings(options),
      CrmIntegrationsModule.forRoot({
        database: { clientUrl: options.databaseUrl, poolMax: 5 },
        encryption: { current: { id: 'test', key: options.encryptionKey ?? randomBytes(32) } },
        publicUrl: 'http://localhost:0',
        connectors: options.connectors,
        platformServiceToken: options.platformServiceToken,
        webhooks: { allowPrivateReceivers: options.allowPrivateWebhookReceivers ?? false },
      }),
      ...(options.workers ? [SyncWorkersModule.forRoot({ scheduler: false })] : []),
    ],
  })
    .overrideProvider(SYNC_SESSION_PROVIDER)
    .useValue(options.sessions)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** A tenant with one connected connection. */
export async function seedConnection(
  app: INestApplication,
  input: { tenantId: string; provider: string; settings?: Partial<ConnectionSettings> },
): Promise<CrmConnection> {
  const orm = app.get<MikroORM>(CRM_ORM);
  const em = orm.em.fork();
  const tenant =
    (await em.findOne(Tenant, { id: input.tenantId })) ??
    em.create(Tenant, { id: input.tenantId, name: input.tenantId });
  const connection = em.create(CrmConnection, {
    tenant,
    provider: input.provider,
    status: 'connected',
    connectedAt: new Date(),
    settings: { ...DEFAULT_CONNECTION_SETTINGS, objects: ['contacts'], ...input.settings },
  });
  await em.flush();
  return connection;
}

/** Runs `work` in a fresh ORM context, as an HTTP request would. */
export function inRequest<T>(app: INestApplication, work: () => Promise<T>): Promise<T> {
  return RequestContext.create(app.get<MikroORM>(CRM_ORM).em, work);
}
