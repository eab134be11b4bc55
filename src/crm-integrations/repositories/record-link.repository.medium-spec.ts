import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, CrmConnection, RecordLink, Tenant } from '@pm/domain';
import type { LinkSnapshot } from '@pm/sync-engine';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { linksWithKeys, RecordLinkRepository } from './record-link.repository';

function snapshot(localId: string, crmId: string, crmObject = 'contacts'): LinkSnapshot {
  return {
    localObject: 'contact',
    localId,
    crmObject,
    crmId,
    synced: {},
    localUpdatedAt: null,
    crmModifiedAt: null,
    lastSyncedAt: null,
  };
}

describe('RecordLinkRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let links: RecordLinkRepository;
  let connectionId: string;
  let otherConnectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 2 }));
    await orm.getMigrator().up();
    links = new RecordLinkRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'links', name: 'Links' });
    connectionId = em.create(CrmConnection, { tenant, provider: 'hubspot' }).id;
    otherConnectionId = em.create(CrmConnection, { tenant, provider: 'pipedrive' }).id;
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('saves a large page in one go, updating existing links by (object, CRM id) and creating the rest', async () => {
    const localIds = Array.from({ length: 4_000 }, () => randomUUID());
    await links.save(
      connectionId,
      localIds.slice(0, 2_000).map((localId, i) => snapshot(localId, `c${i}`)),
    );
    // Half of the page is known (same CRM ids), half is new.
    const page = localIds.map((localId, i) => snapshot(localId, `c${i}`));
    page[0] = {
      ...snapshot(localIds[0], 'c0'),
      synced: { email: { value: 'a@x', side: 'crm', at: 'now', rule: 'initial' } },
    };
    await links.save(connectionId, page);
    const count = await orm.em.fork().count(RecordLink, { connection: connectionId });
    expect(count).toBe(4_000);
    const [first] = await links.findByCrmIds(connectionId, 'contacts', ['c0']);
    expect(first).toMatchObject({ localId: localIds[0], synced: { email: { value: 'a@x' } } });
  });

  it('reactivates an unlinked link with the new values, keeping its id; of two snapshots of one record the later wins', async () => {
    const [before, after, later] = [randomUUID(), randomUUID(), randomUUID()];
    await links.save(connectionId, [snapshot(before, 'relinked')]);
    const original = await orm.em
      .fork()
      .findOneOrFail(RecordLink, { connection: connectionId, crmId: 'relinked' });
    await links.unlink(connectionId, 'contacts', 'relinked', 'deleted_in_penguinmails', new Date());
    expect(await links.findByCrmIds(connectionId, 'contacts', ['relinked'])).toEqual([]);

    const syncedAt = new Date('2026-12-01T10:00:00.000Z');
    await links.save(connectionId, [
      { ...snapshot(after, 'relinked'), lastSyncedAt: syncedAt },
      {
        ...snapshot(later, 'relinked'),
        lastSyncedAt: syncedAt,
        synced: { email: { value: 'b@x', side: 'crm', at: 'now', rule: 'initial' } },
      },
    ]);
    const [link] = await links.findByCrmIds(connectionId, 'contacts', ['relinked']);
    expect(link).toMatchObject({
      id: original.id,
      localId: later,
      lastSyncedAt: syncedAt,
      synced: { email: { value: 'b@x' } },
    });
    const row = await orm.em.fork().findOneOrFail(RecordLink, { id: original.id });
    expect(row).toMatchObject({ unlinkedAt: null, unlinkReason: null, createdAt: original.createdAt });
  });

  it('keeps links of different CRM objects with the same id apart', async () => {
    const localA = randomUUID();
    const localB = randomUUID();
    await links.save(connectionId, [
      snapshot(localA, 'shared', 'leads'),
      snapshot(localB, 'shared', 'people'),
    ]);
    expect((await links.findByCrmIds(connectionId, 'leads', ['shared'])).map((l) => l.localId)).toEqual([
      localA,
    ]);
    expect((await links.findByCrmIds(connectionId, 'people', ['shared'])).map((l) => l.localId)).toEqual([
      localB,
    ]);
  });

  it('finds active links by local ids in this connection only', async () => {
    const local = randomUUID();
    const unlinked = randomUUID();
    await links.save(connectionId, [snapshot(local, 'mine'), snapshot(unlinked, 'gone')]);
    await links.save(otherConnectionId, [snapshot(local, 'theirs')]);
    await links.unlink(connectionId, 'contacts', 'gone', 'deleted_in_crm', new Date());
    const found = await links.findByLocalIds(connectionId, [local, unlinked, randomUUID()]);
    expect(found.map((link) => link.crmId)).toEqual(['mine']);
    expect(await links.findDeletedInCrmLocalIds(connectionId, [local, unlinked])).toEqual([unlinked]);
  });

  it('looks each key up in its index, not through every link of the connection, even without statistics', async () => {
    // Links just written have no statistics yet: the planner must still probe the index per key.
    const plan = async (sql: string, params: unknown[]) =>
      (await orm.em.fork().getConnection().execute(`explain ${sql}`, params))
        .map((row: Record<string, string>) => row['QUERY PLAN'])
        .join('\n');
    const byCrmId = await plan(
      `select * from record_links l where ${linksWithKeys('crm_id', 'crm_object', 'text')}`,
      [JSON.stringify(['c1', 'c2']), connectionId, 'contacts'],
    );
    expect(byCrmId).toMatch(/Index Cond: .*crm_id = /);
    const byLocalId = await plan(
      `select * from record_links l where ${linksWithKeys('local_id', 'local_object', 'uuid')} and l.unlinked_at is null`,
      [JSON.stringify([randomUUID()]), connectionId, 'contact'],
    );
    expect(byLocalId).toMatch(/Index Cond: .*local_id = /);
  });
});
