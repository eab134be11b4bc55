import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import { Pool } from 'pg';

/** The table connect-pg-simple keeps admin sessions in (made on first use, in the service's schema). */
export const ADMIN_SESSION_TABLE = 'admin_sessions';

/**
 * AdminJS sessions in PostgreSQL instead of memory, so a restart (or a crash) does not log every admin out.
 * The pool is closed when the app shuts down, before the standalone runtime stops the database.
 */
export function adminSessionStore(
  databaseUrl: string,
  schema: string | undefined,
): { store: session.Store; module: DynamicModule } {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  // A connection cut while idle (the database restarting) is replaced on next use, not a crash.
  pool.on('error', () => undefined);
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool,
    schemaName: schema,
    tableName: ADMIN_SESSION_TABLE,
    createTableIfMissing: true,
    pruneSessionInterval: 15 * 60,
  });
  @Module({})
  class AdminSessionStoreModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      store.close();
      await pool.end();
    }
  }
  return { store, module: { module: AdminSessionStoreModule } };
}
