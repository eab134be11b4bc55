import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { ChangeHintRepository } from '../repositories';
import { seedConnection } from '../sync/testing/sync-test-app';
import { CHANGE_HINT_QUEUE, ChangeHintQueue } from './change-hint-queue';
import { CHANGE_HINT_SINK, type ChangeHintSink } from './change-hints';
import { ChangeHintWorker } from './change-hint.worker';
import type { TargetedSyncExecutor } from './targeted-sync.executor';
import { startRealtimeTestApp } from './testing/realtime-test-app';

/** An executor that only says which connection the worker handed it. */
function recordingExecutor(hints: ChangeHintRepository): {
  executor: TargetedSyncExecutor;
  handed: Promise<string>;
} {
  let hand!: (connectionId: string) => void;
  const handed = new Promise<string>((resolve) => (hand = resolve));
  const executor = {
    process: (connectionId: string) => {
      hand(connectionId);
      return Promise.resolve('applied');
    },
    waitingConnections: () => hints.connectionsWithPending(),
  } as unknown as TargetedSyncExecutor;
  return { executor, handed };
}

/** The sink, its pg-boss queue and the worker on a real PostgreSQL. */
describe('change hints on PostgreSQL and pg-boss', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let connectionId: string;
  const occurredAt = new Date('2026-12-06T09:00:00.000Z');

  const waitingJobs = async () => {
    const rows = await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .getConnection()
      .execute<
        { count: string }[]
      >(`select count(*) as count from pgboss.job where name = ? and state in ('created', 'retry')`, [CHANGE_HINT_QUEUE]);
    return Number(rows[0].count);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ app } = await startRealtimeTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
      realtime: { debounceMs: 0 },
    }));
    connectionId = (await seedConnection(app, { tenantId: 'rt-queue', provider: 'hubspot' })).id;
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('stores a repeated event once, keeps distinct events, and queues one job per connection', async () => {
    const sink = app.get<ChangeHintSink>(CHANGE_HINT_SINK);
    const hint = { connectionId, object: 'contacts', action: 'updated' as const, occurredAt };
    await sink.accept([{ ...hint, crmIds: ['1'], eventId: 'e1' }]);
    await sink.accept([
      { ...hint, crmIds: ['1'], eventId: 'e1' },
      { ...hint, crmIds: ['1'], eventId: 'e2' },
      { ...hint, crmIds: ['2'] },
    ]);

    const pending = await app.get(ChangeHintRepository).pending(connectionId, 100);
    expect(pending.map((row) => row.crmId).sort()).toEqual(['1', '1', '2']);
    expect(await waitingJobs()).toBe(1);
  });

  it('a worker takes the job; one starting after a lost job queues the waiting hints again', async () => {
    const first = recordingExecutor(app.get(ChangeHintRepository));
    const worker = new ChangeHintWorker(app.get(ChangeHintQueue), first.executor);
    await worker.onApplicationBootstrap();
    expect(await first.handed).toBe(connectionId);
    await worker.onApplicationShutdown();

    // The hints are still waiting (the recording executor applied nothing) but no job is: as after a crash.
    await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .getConnection()
      .execute(`delete from pgboss.job where name = ?`, [CHANGE_HINT_QUEUE]);
    const second = recordingExecutor(app.get(ChangeHintRepository));
    const restarted = new ChangeHintWorker(app.get(ChangeHintQueue), second.executor);
    await restarted.onApplicationBootstrap();
    expect(await second.handed).toBe(connectionId);
    await restarted.onApplicationShutdown();
  });
});
