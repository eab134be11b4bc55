import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { SyncLocks } from './sync-locks';

describe('SyncLocks on PostgreSQL when the process shuts down', () => {
  let database: TestDatabase;
  let locks: SyncLocks;

  beforeAll(async () => {
    database = await createTestDatabase();
    locks = new SyncLocks({ database: { clientUrl: database.url } } as CrmIntegrationsOptions);
  });

  afterAll(async () => {
    await locks?.onApplicationShutdown();
    await database?.drop();
  });

  it('tells work under a lock to stop, and work that starts afterwards at once', async () => {
    let started!: () => void;
    const working = new Promise<void>((resolve) => (started = resolve));
    const held = locks.withConnectionLock('connection-a', async (lockLost) => {
      started();
      // The work runs until it is told to stop (a sync stops after its page).
      await new Promise<void>((resolve) =>
        lockLost.addEventListener('abort', () => resolve(), { once: true }),
      );
      return String((lockLost.reason as Error).message);
    });
    await working;

    locks.beforeApplicationShutdown();
    await expect(held).resolves.toEqual({ acquired: true, result: 'the worker is shutting down' });
    const later = await locks.withConnectionLock('connection-b', async (lockLost) => lockLost.aborted);
    expect(later).toEqual({ acquired: true, result: true });
  });
});
