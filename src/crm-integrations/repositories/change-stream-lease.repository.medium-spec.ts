import { MikroORM } from '@mikro-orm/postgresql';
import {
  ChangeStreamLease,
  createOrmConfig,
  CrmConnection,
  DEFAULT_CONNECTION_SETTINGS,
  Tenant,
} from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ChangeStreamLeaseRepository } from './change-stream-lease.repository';

/** Two workers on one database: a stream's lease is one worker's until it lapses or is given up. */
describe('ChangeStreamLeaseRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let leases: ChangeStreamLeaseRepository;
  let c1: string;
  let c2: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    leases = new ChangeStreamLeaseRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'acme', name: 'Acme' });
    const connection = () =>
      em.create(CrmConnection, {
        tenant,
        provider: 'salesforce',
        status: 'connected',
        settings: { ...DEFAULT_CONNECTION_SETTINGS, objects: ['Contact'] },
      });
    [c1, c2] = [connection().id, connection().id];
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const expireAll = () =>
    orm.em.fork().nativeUpdate(ChangeStreamLease, {}, { expiresAt: new Date(Date.now() - 60_000) });

  it('grants free leases, renews its own, and refuses one another worker holds until it lapses', async () => {
    expect((await leases.claim([c1, c2], 'worker-a', 90_000)).sort()).toEqual([c1, c2].sort());
    expect(await leases.claim([c1, c2], 'worker-b', 90_000)).toEqual([]);
    expect((await leases.claim([c1], 'worker-a', 90_000)).sort()).toEqual([c1]);

    // worker-a died: its leases run out and worker-b takes both streams over; worker-a cannot take them back.
    await expireAll();
    expect((await leases.claim([c1, c2], 'worker-b', 90_000)).sort()).toEqual([c1, c2].sort());
    expect(await leases.claim([c1, c2], 'worker-a', 90_000)).toEqual([]);
  });

  it('frees only the leases it is asked to, and only its own', async () => {
    await expireAll();
    await leases.claim([c1, c2], 'worker-a', 90_000);
    await leases.release('worker-b');
    expect(await leases.claim([c1, c2], 'worker-b', 90_000)).toEqual([]);
    await leases.release('worker-a', [c1]);
    expect(await leases.claim([c1, c2], 'worker-b', 90_000)).toEqual([c1]);
    await leases.release('worker-a');
    expect((await leases.claim([c1, c2], 'worker-b', 90_000)).sort()).toEqual([c1, c2].sort());
  });
});
