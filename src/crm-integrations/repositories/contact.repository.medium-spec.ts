import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, createOrmConfig, Tenant } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactRepository } from './contact.repository';

describe('ContactRepository sync reads on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let contacts: ContactRepository;
  const at = new Date('2026-03-01T10:00:00.123Z');
  const later = new Date('2026-03-01T10:00:01.456Z');
  const ids = {
    a: '00000000-0000-4000-8000-00000000000a',
    b: '00000000-0000-4000-8000-00000000000b',
    c: '00000000-0000-4000-8000-00000000000c',
    other: '00000000-0000-4000-8000-0000000000ff',
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    contacts = new ContactRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'rows', name: 'Rows' });
    const other = em.create(Tenant, { id: 'other', name: 'Other' });
    const add = (id: string, email: string, updatedAt: Date, extra: Partial<Contact> = {}) =>
      em.create(Contact, { id, tenant, email, updatedAt, createdAt: at, ...extra });
    // b and a share an instant: the keyset orders them by id.
    add(ids.b, 'b@example.com', at, { firstName: 'Bea', customFields: { score: 7 } });
    add(ids.a, 'a@example.com', at);
    add(ids.c, 'c@example.com', later, { deletedAt: later });
    em.create(Contact, {
      id: ids.other,
      tenant: other,
      email: 'a@example.com',
      updatedAt: at,
      createdAt: at,
    });
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const inContext = <T>(work: () => Promise<T>) => contacts.inOwnContext(work);

  it('pages changes by (updated at, id), deleted ones included, with dates, fields and custom fields as the engine reads them', async () => {
    const first = await inContext(() => contacts.changedSinceForSync('rows', null, 2));
    expect(first.map((row) => row.id)).toEqual([ids.a, ids.b]);
    expect(first[1]).toMatchObject({ email: 'b@example.com', firstName: 'Bea', customFields: { score: 7 } });
    expect(first[1].updatedAt).toEqual(at);
    expect(first[1].deletedAt).toBeNull();

    const rest = await inContext(() =>
      contacts.changedSinceForSync('rows', { updatedAt: at, id: ids.a }, 10),
    );
    expect(rest.map((row) => row.id)).toEqual([ids.b, ids.c]);
    expect(rest[1].deletedAt).toEqual(later);
    // Without an id the instant itself is read again.
    const again = await inContext(() => contacts.changedSinceForSync('rows', { updatedAt: at }, 10));
    expect(again.map((row) => row.id)).toEqual([ids.a, ids.b, ids.c]);
  });

  it('finds one tenant’s contacts by normalised e-mail and by id, as rows and as entities', async () => {
    const byEmail = await inContext(() =>
      contacts.findRowsByEmailsForSync('rows', [' A@Example.com', 'nobody@example.com']),
    );
    expect(byEmail.map((row) => row.id)).toEqual([ids.a]);
    const byId = await inContext(() => contacts.findRowsByIdsForSync('rows', [ids.c, ids.other]));
    expect(byId.map((row) => row.id)).toEqual([ids.c]);
    const entities = await inContext(() => contacts.findManyByEmailsForSync('rows', ['b@example.com']));
    expect(entities).toHaveLength(1);
    expect(entities[0]).toBeInstanceOf(Contact);
    expect(entities[0].customFields).toEqual({ score: 7 });
  });
});
