import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, SyncCursorState, Tenant } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { SyncCursorRepository } from './sync-cursor.repository';

describe('SyncCursorRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let cursors: SyncCursorRepository;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    cursors = new SyncCursorRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'cursors', name: 'Cursors' });
    connectionId = em.create(CrmConnection, { tenant, provider: 'hubspot' }).id;
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('starts empty, then keeps one cursor per object and direction, moved by each save', async () => {
    expect(await cursors.load(connectionId, 'contacts', 'from_crm')).toEqual({
      value: null,
      initialSyncCompletedAt: null,
    });
    await cursors.save(connectionId, 'contacts', 'from_crm', { modifiedAt: '2026-12-01T00:00:00.000Z' });
    await cursors.save(connectionId, 'contacts', 'from_crm', {
      modifiedAt: '2026-12-02T00:00:00.000Z',
      lastId: '42',
    });
    await cursors.save(connectionId, 'contact', 'to_crm', { modifiedAt: '2026-12-03T00:00:00.000Z' });
    expect(await cursors.load(connectionId, 'contacts', 'from_crm')).toEqual({
      value: { modifiedAt: '2026-12-02T00:00:00.000Z', lastId: '42' },
      initialSyncCompletedAt: null,
    });
    expect((await cursors.load(connectionId, 'contact', 'to_crm')).value).toEqual({
      modifiedAt: '2026-12-03T00:00:00.000Z',
    });
    expect(await orm.em.fork().count(SyncCursorState, { connection: connectionId })).toBe(2);
  });

  it('keeps the first completion time of the initial sync, and a null cursor as null', async () => {
    await cursors.save(connectionId, 'companies', 'from_crm', null, { initialSyncCompleted: true });
    const first = await cursors.load(connectionId, 'companies', 'from_crm');
    expect(first.value).toBeNull();
    expect(first.initialSyncCompletedAt).toBeInstanceOf(Date);
    await cursors.save(
      connectionId,
      'companies',
      'from_crm',
      { modifiedAt: '2026-12-04T00:00:00.000Z' },
      { initialSyncCompleted: true },
    );
    await cursors.save(connectionId, 'companies', 'from_crm', { modifiedAt: '2026-12-05T00:00:00.000Z' });
    expect(await cursors.load(connectionId, 'companies', 'from_crm')).toEqual({
      value: { modifiedAt: '2026-12-05T00:00:00.000Z' },
      initialSyncCompletedAt: first.initialSyncCompletedAt,
    });
  });
});
