import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, Tenant } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ConnectionCredentialRepository } from './connection-credential.repository';

describe('ConnectionCredentialRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let credentials: ConnectionCredentialRepository;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 4 }));
    await orm.getMigrator().up();
    credentials = new ConnectionCredentialRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'vault', name: 'Vault' });
    connectionId = em.create(CrmConnection, { tenant, provider: 'hubspot' }).id;
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const sealed = (keyId: string) => ({
    keyId,
    sealed: `sealed-with-${keyId}`,
    accessTokenExpiresAt: null,
    refreshedAt: new Date(),
  });

  it('replaces the connection’s one credential, and deletes it', async () => {
    await credentials.save(connectionId, sealed('k1'));
    await credentials.save(connectionId, sealed('k2'));
    expect(await credentials.findByConnection(connectionId)).toMatchObject({
      keyId: 'k2',
      sealed: 'sealed-with-k2',
    });
    await credentials.deleteForConnection(connectionId);
    expect(await credentials.findByConnection(connectionId)).toBeNull();
  });

  it('holds a refresh’s row lock until it commits: a second refresh waits, then sees the first one’s token', async () => {
    await credentials.save(connectionId, sealed('before'));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let firstIn!: () => void;
    const firstHoldsLock = new Promise<void>((resolve) => (firstIn = resolve));
    const seen: string[] = [];
    const first = credentials.lockForRefresh(connectionId, async ({ credential }) => {
      firstIn();
      await released;
      Object.assign(credential!, sealed('refreshed'));
    });
    await firstHoldsLock;
    const second = credentials.lockForRefresh(connectionId, async ({ credential }) => {
      seen.push(credential!.keyId);
    });
    // The second transaction is blocked on the row lock (PostgreSQL says so), not merely not scheduled yet.
    const waiting = async () =>
      Number(
        (
          await orm.em
            .fork()
            .getConnection()
            .execute<
              { n: string }[]
            >("select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
        )[0].n,
      );
    const deadline = Date.now() + 10_000;
    while ((await waiting()) === 0 && Date.now() < deadline)
      await new Promise((resolve) => setImmediate(resolve));
    expect(await waiting()).toBe(1);
    expect(seen).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(seen).toEqual(['refreshed']);
  });
});
