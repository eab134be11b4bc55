/**
 * Makes the run's folder for the secret scan (global-teardown.ts reads it). Starts one PostgreSQL for the whole Jest run unless TEST_DATABASE_URL points at one. Each test file then makes
 * its own database on that server (see test-database.ts), so files never see each other's rows.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/standalone/embedded-postgres';
import { RUN_DIR_VARIABLE } from './secret-scan';

export default async function globalSetup(): Promise<void> {
  // The run's folder for every test app's log lines and every secret the suite creates (see secret-scan.ts).
  process.env[RUN_DIR_VARIABLE] = mkdtempSync(join(tmpdir(), 'pm-crm-test-run-'));
  if (process.env.TEST_DATABASE_URL) return;
  const server = await startEmbeddedPostgres({
    dataDir: `/tmp/pm-crm-test-pg-${process.pid}`,
    persistent: false,
  });
  process.env.TEST_DATABASE_URL = server.url;
  (globalThis as Record<string, unknown>).__PM_EMBEDDED_PG__ = server;
}
