import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { IntegrationPort } from '@pm/integration-port';
import type { SessionProvider } from '@pm/sync-engine';
import { CrmIntegrationsModule } from '../../crm-integrations.module';
import { keepChangeWebhookBodiesRaw } from '../../http/setup-crm-http';
import { ProblemDetailsFilter } from '../../http/problem-details.filter';
import { SYNC_EXECUTOR_OPTIONS } from '../../sync/sync-executor';
import { SYNC_QUEUE_OPTIONS, SYNC_SESSION_PROVIDER } from '../../sync/sync.tokens';
import { REALTIME_OPTIONS, type RealtimeOptions } from '../realtime.tokens';

export interface RealtimeTestAppOptions {
  databaseUrl: string;
  connectors: Record<string, IntegrationPort>;
  sessions: SessionProvider;
  realtime: RealtimeOptions;
  webhookSecrets?: Partial<Record<string, string>>;
  platformServiceToken?: string;
  encryptionKey?: Buffer;
}

export interface RealtimeTestApp {
  app: INestApplication;
  /** Where the app listens (its publicUrl). */
  url: string;
}

/** A free loopback port, so the app's publicUrl (what CRMs sign) is known before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function bindings(options: RealtimeTestAppOptions): DynamicModule {
  @Global()
  @Module({})
  class RealtimeTestBindings {}
  const providers = [
    { provide: REALTIME_OPTIONS, useValue: options.realtime },
    { provide: SYNC_EXECUTOR_OPTIONS, useValue: { runner: { sleep: async () => undefined } } },
    { provide: SYNC_QUEUE_OPTIONS, useValue: { pollingIntervalSeconds: 0.5 } },
  ];
  return { module: RealtimeTestBindings, global: true, providers, exports: providers.map((p) => p.provide) };
}

/**
 * The feature module listening on loopback with the change-webhook routes as the standalone service mounts them
 * (raw bodies), a fixed session provider and the test's clock. No workers: a test runs the targeted sync itself
 * (`TargetedSyncExecutor.process`) once the receiver answered, so nothing waits on polling.
 */
export async function startRealtimeTestApp(options: RealtimeTestAppOptions): Promise<RealtimeTestApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      bindings(options),
      CrmIntegrationsModule.forRoot({
        database: { clientUrl: options.databaseUrl, poolMax: 5 },
        encryption: { current: { id: 'test', key: options.encryptionKey ?? randomBytes(32) } },
        publicUrl: url,
        connectors: options.connectors,
        platformServiceToken: options.platformServiceToken,
        webhookSecrets: options.webhookSecrets,
      }),
    ],
  })
    .overrideProvider(SYNC_SESSION_PROVIDER)
    .useValue(options.sessions)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  keepChangeWebhookBodiesRaw(app);
  app.useGlobalFilters(new ProblemDetailsFilter());
  await app.listen(port, '127.0.0.1');
  return { app, url };
}
