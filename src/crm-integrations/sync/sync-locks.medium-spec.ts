import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import type { CrmIntegrationsOptions } from '../crm-integrations.options';
import { SyncLocks } from './sync-locks';

/** A holder of the lock that keeps it until the test lets go. */
function holdUntilReleased() {
  let release!: () => void;
  let entered!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const inside = new Promise<void>((resolve) => (entered = resolve));
  return {
    inside,
    release,
    work: async () => {
      entered();
      await released;
      return 'held';
    },
  };
}

/** The connection lock on a real PostgreSQL: at once or not at all, or waiting its turn for a while. */
describe('SyncLocks on PostgreSQL', () => {
  let database: TestDatabase;
  let locks: SyncLocks;
  let observer: Client;

  /** Sessions waiting for an advisory lock, as PostgreSQL reports them. */
  const waiters = async () =>
    Number(
      (
        await observer.query<{ count: string }>(
          "select count(*) as count from pg_locks where locktype = 'advisory' and not granted",
        )
      ).rows[0].count,
    );
  const untilWaiting = async (count: number) => {
    for (let polls = 0; (await waiters()) < count; polls++) {
      if (polls > 500) throw new Error(`never saw ${count} waiter(s)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    locks = new SyncLocks({ database: { clientUrl: database.url } } as CrmIntegrationsOptions);
    observer = new Client({ connectionString: database.url });
    await observer.connect();
  });

  afterAll(async () => {
    await observer?.end();
    await locks?.onApplicationShutdown();
    await database?.drop();
  });

  it('serves a caller that waits as soon as the holder lets go, ahead of later callers that do not wait', async () => {
    const holder = holdUntilReleased();
    const held = locks.withConnectionLock('c1', holder.work);
    await holder.inside;
    expect(await locks.withConnectionLock('c1', async () => 'never')).toEqual({ acquired: false });

    const order: string[] = [];
    const waiting = locks.withConnectionLock('c1', async () => order.push('waited'), { waitMs: 30_000 });
    await untilWaiting(1);
    // A caller that does not wait finds the lock taken (and the waiter ahead of it): it comes back later.
    expect(await locks.withConnectionLock('c1', async () => order.push('overtook'))).toEqual({
      acquired: false,
    });
    // Another connection's lock is its own.
    expect(await locks.withConnectionLock('c2', async () => 'other')).toEqual({
      acquired: true,
      result: 'other',
    });

    holder.release();
    expect(await held).toEqual({ acquired: true, result: 'held' });
    expect(await waiting).toEqual({ acquired: true, result: 1 });
    expect(order).toEqual(['waited']);
  });

  it('gives up after the wait while the lock stays held', async () => {
    const holder = holdUntilReleased();
    const held = locks.withConnectionLock('c3', holder.work);
    await holder.inside;
    expect(await locks.withConnectionLock('c3', async () => 'late', { waitMs: 50 })).toEqual({
      acquired: false,
    });
    expect(await waiters()).toBe(0);
    holder.release();
    expect(await held).toEqual({ acquired: true, result: 'held' });
    expect(await locks.withConnectionLock('c3', async () => 'next', { waitMs: 50 })).toEqual({
      acquired: true,
      result: 'next',
    });
  });
});
