import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { CrmIntegrationsOptions } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime, type StandaloneRuntime } from '../../src/standalone/runtime';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  runtime: StandaloneRuntime;
  database: TestDatabase;
  platformToken: string;
  close(): Promise<void>;
}

/** The standalone service on its own fresh database, as `npm start` builds it, without listening on a port. */
export async function startTestApp(
  env: Record<string, string> = {},
  overrides: Partial<CrmIntegrationsOptions> = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const platformToken = `platform-${randomBytes(24).toString('hex')}`;
  const runtime = await prepareRuntime({
    DATABASE_URL: database.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-test-')),
    SERVICE_TOKEN: platformToken,
    LOG_LEVEL: 'silent',
    // Tests pass the connectors they use; no demo sandboxes start behind their back.
    DEMO_SANDBOXES: 'off',
    // Sync workers start only where a test asks for them (RUN_WORKERS: 'true').
    RUN_WORKERS: 'false',
    PORT: '0',
    ...env,
  });
  // API tests leave AdminJS out (its bundle is the slow part of a start); the admin tests mount it.
  const app = await createStandaloneApp(runtime, overrides, { admin: false });
  await app.init();
  return {
    app,
    runtime,
    database,
    platformToken,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
