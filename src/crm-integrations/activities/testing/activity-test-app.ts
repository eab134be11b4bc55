import { randomBytes } from 'node:crypto';
import { Global, Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { IntegrationPort } from '@pm/integration-port';
import type { SessionProvider } from '@pm/sync-engine';
import { CrmIntegrationsModule } from '../../crm-integrations.module';
import { SyncWorkersModule } from '../../sync/sync-workers.module';
import { SYNC_QUEUE_OPTIONS, SYNC_SESSION_PROVIDER } from '../../sync/sync.tokens';
import { ACTIVITY_DELIVERY_OPTIONS, type ActivityDeliveryOptions } from '../activity-delivery.service';

export interface ActivityTestAppOptions {
  databaseUrl: string;
  connectors: Record<string, IntegrationPort>;
  sessions: SessionProvider;
  delivery?: ActivityDeliveryOptions;
  /** Run the sync and activity workers (pg-boss `work`) in this app. */
  workers?: boolean;
}

function testBindings(options: ActivityTestAppOptions): DynamicModule {
  @Global()
  @Module({})
  class ActivityTestBindings {}
  const providers = [
    { provide: ACTIVITY_DELIVERY_OPTIONS, useValue: options.delivery ?? {} },
    { provide: SYNC_QUEUE_OPTIONS, useValue: { pollingIntervalSeconds: 0.5 } },
  ];
  return {
    module: ActivityTestBindings,
    global: true,
    providers,
    exports: providers.map((provider) => provider.provide),
  };
}

/** The feature module on a test database with the given connectors, a test session provider and delivery tuning. */
export async function startActivityTestApp(options: ActivityTestAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      testBindings(options),
      CrmIntegrationsModule.forRoot({
        database: { clientUrl: options.databaseUrl, poolMax: 5 },
        encryption: { current: { id: 'test', key: randomBytes(32) } },
        publicUrl: 'http://localhost:0',
        connectors: options.connectors,
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
