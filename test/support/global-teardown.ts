import type { EmbeddedPostgresHandle } from '../../src/standalone/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__PM_EMBEDDED_PG__ as
    | EmbeddedPostgresHandle
    | undefined;
  if (server) await server.stop();
}
