/**
 * Starts one PostgreSQL for the whole Jest run unless TEST_DATABASE_URL points at one. Each test file then makes
 * its own database on that server (see test-database.ts), so files never see each other's rows.
 */
import { startEmbeddedPostgres } from '../../src/standalone/embedded-postgres';

export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const server = await startEmbeddedPostgres({
    dataDir: `/tmp/pm-crm-test-pg-${process.pid}`,
    persistent: false,
  });
  process.env.TEST_DATABASE_URL = server.url;
  (globalThis as Record<string, unknown>).__PM_EMBEDDED_PG__ = server;
}
