import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, SyncLogEntry, SyncRun, Tenant } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ConnectionRepository } from './connection.repository';
import { SyncRunRepository } from './sync-run.repository';

describe('SyncRunRepository and the connection scheduling queries on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let runs: SyncRunRepository;
  let connections: ConnectionRepository;
  let connectionId: string;
  const ref = { id: '', tenantId: 'runs' };

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    runs = new SyncRunRepository(orm);
    connections = new ConnectionRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'runs', name: 'Runs' });
    connectionId = em.create(CrmConnection, { tenant, provider: 'hubspot', status: 'connected' }).id;
    ref.id = connectionId;
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('finds the newest queued run queued after a cut-off, and none once it started', async () => {
    const run = await runs.createQueued(ref, 'manual');
    expect((await runs.findQueued(connectionId, new Date(Date.now() - 60_000)))?.id).toBe(run.id);
    expect(await runs.findQueued(connectionId, new Date(Date.now() + 60_000))).toBeNull();
    await runs.update(run.id, { status: 'running', startedAt: new Date() });
    expect(await runs.findQueued(connectionId, new Date(0))).toBeNull();
  });

  it('creates the run of a job whose row is missing, as a scheduled one', async () => {
    const id = (await runs.createQueued(ref, 'manual')).id;
    await runs.delete(id);
    const run = await runs.saveForJob(
      { runId: id, tenantId: 'runs', connectionId },
      { status: 'running', workerId: 'w1' },
    );
    expect(await orm.em.fork().findOneOrFail(SyncRun, id)).toMatchObject({
      id: run.id,
      trigger: 'scheduled',
      status: 'running',
      workerId: 'w1',
    });
  });

  it('records a run’s outcome, its connection’s health and the status line together', async () => {
    const run = await runs.createQueued(ref, 'scheduled');
    const finishedAt = new Date();
    await runs.recordOutcome({
      runId: run.id,
      run: { status: 'failed', error: 'transient: CRM_UNAVAILABLE: 503', finishedAt },
      connectionId,
      connection: { health: 'degraded', healthReason: '3 runs in a row failed', nextSyncAt: finishedAt },
      statusLine: { message: 'Connection degraded: 3 runs in a row failed', details: { to: 'degraded' } },
    });
    const em = orm.em.fork();
    expect(await em.findOneOrFail(SyncRun, run.id)).toMatchObject({ status: 'failed', finishedAt });
    expect(await em.findOneOrFail(CrmConnection, connectionId)).toMatchObject({
      health: 'degraded',
      nextSyncAt: finishedAt,
    });
    const [line] = await em.find(SyncLogEntry, { run: run.id });
    expect(line).toMatchObject({
      action: 'status_changed',
      message: 'Connection degraded: 3 runs in a row failed',
    });
    expect((await runs.recentFinished(connectionId, 5))[0]).toMatchObject({ status: 'failed' });
  });

  it('a missing run makes the outcome fail whole: the connection is left as it was', async () => {
    const before = await orm.em.fork().findOneOrFail(CrmConnection, connectionId);
    await expect(
      runs.recordOutcome({
        runId: '00000000-0000-4000-8000-000000000000',
        run: { status: 'succeeded' },
        connectionId,
        connection: { health: 'healthy', healthReason: null },
      }),
    ).rejects.toThrow();
    expect((await orm.em.fork().findOneOrFail(CrmConnection, connectionId)).health).toBe(before.health);
  });

  it('schedules connected connections that are due or never scheduled, and stores when each is next due', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 3_600_000);
    await connections.setNextSyncAt([{ id: connectionId, at: later }]);
    expect((await connections.findSchedulable(now)).map((c) => c.id)).not.toContain(connectionId);
    expect((await connections.findSchedulable(new Date(later.getTime() + 1))).map((c) => c.id)).toContain(
      connectionId,
    );
  });
});
