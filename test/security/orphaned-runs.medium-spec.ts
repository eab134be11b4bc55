import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { CrmConnection, SyncRun } from '@pm/domain';
import { Client } from 'pg';
import { CRM_ORM } from '../../src/crm-integrations/database/crm-database';
import { SyncLocks } from '../../src/crm-integrations/sync/sync-locks';
import { SyncQueue } from '../../src/crm-integrations/sync/sync-queue';
import { ORPHANED_RUN_REASON, SyncRunReaper } from '../../src/crm-integrations/sync/sync-run-reaper';
import { SyncRuns } from '../../src/crm-integrations/sync/sync-runs';
import { CONTACT_SYNC_QUEUE } from '../../src/crm-integrations/sync/sync.tokens';
import { seedConnection, startSyncTestApp } from '../../src/crm-integrations/sync/testing/sync-test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Issue 14, hole 8: runs cut short by a crash do not stay "running". A live worker holds its connection's advisory
 * lock on its own session (the heartbeat); a run whose lock nobody holds lost its worker.
 */
describe('runs whose worker died', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let liveWorker: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
    });
    liveWorker = new Client({ connectionString: database.url });
    await liveWorker.connect();
  });

  afterAll(async () => {
    await liveWorker?.end();
    await app?.close();
    await database?.drop();
  });

  it('end as failed with the reason, their queue job fails, their connection is due at once; live runs stay', async () => {
    const orm = app.get<MikroORM>(CRM_ORM);
    const queue = app.get(SyncQueue);
    const later = new Date(Date.now() + 6 * 3_600_000);
    const alive = await seedConnection(app, { tenantId: 'acme', provider: 'in-memory' });
    const crashed = await Promise.all(
      [1, 2, 3].map(() => seedConnection(app, { tenantId: 'acme', provider: 'in-memory' })),
    );
    const em = orm.em.fork();
    const runOf = (connection: CrmConnection) =>
      em.create(SyncRun, {
        tenant: 'acme',
        connection: connection.id,
        trigger: 'scheduled',
        status: 'running',
        startedAt: new Date(),
        workerId: 'gone:1',
      });
    const aliveRun = runOf(alive);
    const crashedRuns = crashed.map(runOf);
    for (const connection of [alive, ...crashed]) {
      em.getReference(CrmConnection, connection.id).nextSyncAt = later;
    }
    await em.flush();
    await orm.em.fork().nativeUpdate(CrmConnection, {}, { nextSyncAt: later });

    // The crashed runs' jobs were taken by the dead worker: active in the queue.
    const boss = await queue.start();
    const jobIds: string[] = [];
    for (const [index, connection] of crashed.entries()) {
      await queue.enqueue({ connectionId: connection.id, tenantId: 'acme', runId: crashedRuns[index].id });
      const [job] = await boss.fetch(CONTACT_SYNC_QUEUE);
      jobIds.push(job.id);
    }
    // The live worker holds its connection's lock, as SyncLocks does for a run in progress.
    await liveWorker.query('select pg_advisory_lock($1::int, hashtext($2))', [0x504d4352, alive.id]);

    const reaper = new SyncRunReaper(app.get(SyncRuns), app.get(SyncLocks), queue);
    const reaped = await reaper.reapOrphanedRuns();

    expect(reaped.sort()).toEqual(crashedRuns.map((run) => run.id).sort());
    const read = orm.em.fork();
    for (const run of crashedRuns) {
      expect(await read.findOneOrFail(SyncRun, run.id)).toMatchObject({
        status: 'failed',
        error: ORPHANED_RUN_REASON,
        finishedAt: expect.any(Date),
      });
    }
    expect((await read.findOneOrFail(SyncRun, aliveRun.id)).status).toBe('running');
    for (const connection of crashed) {
      const stored = await read.findOneOrFail(CrmConnection, connection.id);
      expect(stored.nextSyncAt!.getTime()).toBeLessThanOrEqual(Date.now());
    }
    expect((await read.findOneOrFail(CrmConnection, alive.id)).nextSyncAt).toEqual(later);
    for (const id of jobIds) {
      expect((await boss.getJobById(CONTACT_SYNC_QUEUE, id))?.state).toBe('failed');
    }
    // Nothing left to reap, and the live run is still untouched.
    expect(await reaper.reapOrphanedRuns()).toEqual([]);
  });
});
