import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import type { CrmIntegrationsOptions } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime, type StandaloneRuntime } from '../../src/standalone/runtime';
import { recordSecret, RUN_DIR_VARIABLE } from './secret-scan';
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
  recordSecret(platformToken);
  const runDir = process.env[RUN_DIR_VARIABLE];
  const runtime = await prepareRuntime({
    DATABASE_URL: database.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-test-')),
    SERVICE_TOKEN: platformToken,
    // Within a Jest run every line goes to the run's folder, where the secret scan reads it.
    ...(runDir
      ? {
          LOG_LEVEL: 'debug',
          LOG_FILE: join(runDir, `app-${process.pid}-${randomBytes(4).toString('hex')}.log`),
        }
      : { LOG_LEVEL: 'silent' }),
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
      await recordSealedSecrets(database.url);
      await database.drop();
    },
  };
}

/** The sealed credentials the app stored: their text must not appear in a log line either. */
async function recordSealedSecrets(url: string): Promise<void> {
  if (!process.env[RUN_DIR_VARIABLE]) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ sealed: string }>('select sealed from connection_credentials');
    for (const row of rows.rows) recordSecret(row.sealed);
  } catch {
    // No credentials table (the app did not get as far as its migrations): nothing was sealed.
  } finally {
    await client.end();
  }
}
