import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { createOrmConfig, Tenant } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactChangeRepository, type NewContactChange } from './contact-change.repository';

const change = (email: string): NewContactChange => ({
  contactId: randomUUID(),
  connectionId: randomUUID(),
  provider: 'hubspot',
  kind: 'updated',
  email,
  fields: ['firstName'],
  values: { firstName: 'X' },
});

/**
 * The feed's promise: a reader paging by id never passes an entry that commits later. A writer that has drawn an id
 * and not committed holds the tenant's feed lock, so a second writer cannot draw a (larger) id and commit first.
 */
describe('ContactChangeRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let changes: ContactChangeRepository;
  let slow: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 4 }));
    await orm.getMigrator().up();
    changes = new ContactChangeRepository(orm);
    const em = orm.em.fork();
    em.create(Tenant, { id: 'acme', name: 'Acme' });
    em.create(Tenant, { id: 'globex', name: 'Globex' });
    await em.flush();
    slow = new Client({ connectionString: database.url });
    await slow.connect();
  });

  afterAll(async () => {
    await slow?.end();
    await orm?.close(true);
    await database?.drop();
  });

  const write = (tenantId: string, email: string) =>
    RequestContext.create(orm.em, async () => {
      changes.stage(tenantId, change(email));
      await changes.flushInFeedOrder(tenantId);
    });
  const waitingForAdvisoryLock = async () => {
    const { rows } = await slow.query<{ waiting: string }>(
      `select count(*) as waiting from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and not l.granted and a.datname = current_database()`,
    );
    return Number(rows[0].waiting);
  };

  it('a later writer waits for an earlier one to commit, so ids follow commit order and no reader skips one', async () => {
    // A writer that drew its id and has not committed yet, as flushInFeedOrder does it.
    await slow.query('begin');
    await slow.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, ['contact_changes:acme']);
    const { rows } = await slow.query<{ id: string }>(
      `insert into contact_changes (tenant_id, contact_id, kind, email, fields, values, occurred_at)
       values ('acme', $1, 'updated', 'slow@example.com', '[]', '{}', now()) returning id`,
      [randomUUID()],
    );
    const slowId = BigInt(rows[0].id);

    const fast = write('acme', 'fast@example.com');
    // The second writer blocks on the lock (observed in pg_locks, not guessed with a timer)…
    let waiting = 0;
    for (let check = 0; check < 1_000 && waiting === 0; check++) waiting = await waitingForAdvisoryLock();
    expect(waiting).toBe(1);
    // …another tenant's writer does not,
    await write('globex', 'other@example.com');
    // …and a reader sees neither acme entry yet.
    expect(await changes.page('acme', '0', 10)).toEqual([]);

    await slow.query('commit');
    await fast;
    const page = await changes.page('acme', '0', 10);
    expect(page.map((entry) => entry.email)).toEqual(['slow@example.com', 'fast@example.com']);
    expect(BigInt(page[1].id)).toBeGreaterThan(slowId);
    expect(await changes.latestId('acme')).toBe(page[1].id);
    expect((await changes.page('globex', '0', 10)).map((entry) => entry.email)).toEqual([
      'other@example.com',
    ]);
  });

  it('pages strictly after the given id, oldest first', async () => {
    for (let i = 0; i < 5; i++) await write('acme', `p${i}@example.com`);
    const all = await changes.page('acme', '0', 100);
    const after = await changes.page('acme', all[2].id, 2);
    expect(after.map((entry) => entry.id)).toEqual([all[3].id, all[4].id]);
  });
});
