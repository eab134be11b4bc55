import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, createOrmConfig, CrmConnection, RecordLink, Tenant } from '@pm/domain';
import type { ObjectMapping } from '@pm/integration-port';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { FieldMappingRepository } from './field-mapping.repository';

const DEFAULTS: ObjectMapping = {
  object: 'Contact',
  emailField: 'Email',
  fields: [{ local: 'email', crm: 'Email', direction: 'both', codec: 'email' }],
};

describe('FieldMappingRepository on PostgreSQL', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let mappings: FieldMappingRepository;
  let connectionId: string;
  let otherConnectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await MikroORM.init(createOrmConfig({ clientUrl: database.url, poolMax: 4 }));
    await orm.getMigrator().up();
    mappings = new FieldMappingRepository(orm);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'maps', name: 'Maps' });
    connectionId = em.create(CrmConnection, { tenant, provider: 'salesforce' }).id;
    otherConnectionId = em.create(CrmConnection, { tenant, provider: 'salesforce' }).id;
    await em.flush();
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('seeds the defaults once, even when two callers seed at the same moment', async () => {
    const seeded = await Promise.all([
      mappings.findOrSeed(connectionId, 'Contact', DEFAULTS),
      mappings.findOrSeed(connectionId, 'Contact', DEFAULTS),
      mappings.findOrSeed(connectionId, 'Contact', DEFAULTS),
    ]);
    expect(new Set(seeded.map((row) => row.id)).size).toBe(1);
    expect(seeded[0]).toMatchObject({ version: 1, updatedBy: null, mapping: DEFAULTS });
    expect(await mappings.find(otherConnectionId, 'Contact')).toBeNull();
  });

  it('follows changed defaults while the mapping was never edited', async () => {
    const newer: ObjectMapping = {
      ...DEFAULTS,
      fields: [
        ...DEFAULTS.fields,
        { local: 'firstName', crm: 'FirstName', direction: 'both', codec: 'text' },
      ],
    };
    const prospect = await mappings.findOrSeed(connectionId, 'Prospect', DEFAULTS);
    expect((await mappings.findOrSeed(connectionId, 'Prospect', newer)).mapping).toEqual(newer);
    expect((await mappings.find(connectionId, 'Prospect'))?.mapping).toEqual(newer);
    expect((await mappings.find(connectionId, 'Prospect'))?.id).toBe(prospect.id);
    await mappings.save(connectionId, 'Prospect', DEFAULTS, 'token:carol');
    expect((await mappings.findOrSeed(connectionId, 'Prospect', newer)).mapping).toEqual(DEFAULTS);
  });

  it('saves new versions per connection and object, keeping what each replaced', async () => {
    const custom: ObjectMapping = {
      ...DEFAULTS,
      fields: [
        ...DEFAULTS.fields,
        { local: 'customFields.colour', crm: 'Colour__c', direction: 'to_crm', codec: 'text' },
      ],
    };
    const first = await mappings.save(connectionId, 'Contact', custom, 'token:alice');
    expect(first).toMatchObject({ previous: DEFAULTS, previousVersion: 1 });
    expect(first.saved).toMatchObject({ version: 2, updatedBy: 'token:alice' });
    const lead = await mappings.save(connectionId, 'Lead', { ...DEFAULTS, object: 'Lead' }, 'token:bob');
    expect(lead).toMatchObject({ previous: null, previousVersion: 0, saved: { version: 1 } });
    expect((await mappings.find(connectionId, 'Contact'))?.mapping).toEqual(custom);
    expect((await mappings.listForConnection(connectionId)).map((row) => row.object)).toEqual([
      'Contact',
      'Lead',
      'Prospect',
    ]);
    expect(await mappings.listForConnection(otherConnectionId)).toEqual([]);
  });

  it('caches described fields per connection and object, replacing them on refresh', async () => {
    const field = { name: 'Colour__c', label: 'Colour', type: 'string' as const, crmType: 'string' };
    const described = [{ ...field, required: false, readOnly: false, custom: true }];
    await mappings.saveFieldCache(connectionId, 'Contact', described, new Date('2026-12-01T00:00:00Z'));
    await mappings.saveFieldCache(connectionId, 'Contact', [], new Date('2026-12-02T00:00:00Z'));
    const cached = await mappings.fieldCache(connectionId, 'Contact');
    expect(cached).toMatchObject({ fields: [], fetchedAt: new Date('2026-12-02T00:00:00Z') });
    expect(await mappings.fieldCache(otherConnectionId, 'Contact')).toBeNull();
  });

  it('counts linked records, and those whose local value differs from the last synced one', async () => {
    const em = orm.em.fork();
    const tenant = em.getReference(Tenant, 'maps');
    const link = (contact: Contact, crmId: string, synced: Record<string, string | null>, unlinked = false) =>
      em.create(RecordLink, {
        connection: em.getReference(CrmConnection, connectionId),
        localObject: 'contact',
        localId: contact.id,
        crmObject: 'Contact',
        crmId,
        synced: Object.fromEntries(
          Object.entries(synced).map(([key, value]) => [
            key,
            { value, side: 'crm', at: '2026-12-01T00:00:00Z', rule: 'initial' },
          ]),
        ),
        unlinkedAt: unlinked ? new Date() : null,
      });
    const same = em.create(Contact, {
      tenant,
      email: 'same@example.com',
      title: 'CTO',
      customFields: { colour: 'red' },
    });
    const title = em.create(Contact, {
      tenant,
      email: 'title@example.com',
      title: 'CEO',
      customFields: { colour: 'red' },
    });
    const colour = em.create(Contact, {
      tenant,
      email: 'colour@example.com',
      title: 'CTO',
      customFields: { colour: 'blue' },
    });
    const gone = em.create(Contact, { tenant, email: 'gone@example.com', title: 'VP' });
    link(same, '1', { title: 'CTO', 'customFields.colour': 'red' });
    link(title, '2', { title: 'CTO', 'customFields.colour': 'red' });
    link(colour, '3', { title: 'CTO', 'customFields.colour': 'red' });
    link(gone, '4', { title: 'CTO' }, true);
    await em.flush();
    expect(await mappings.countLinks(connectionId, 'Contact')).toBe(3);
    expect(await mappings.countLinksWithLocalChanges(connectionId, 'Contact', ['title'])).toBe(1);
    expect(await mappings.countLinksWithLocalChanges(connectionId, 'Contact', ['customFields.colour'])).toBe(
      1,
    );
    expect(
      await mappings.countLinksWithLocalChanges(connectionId, 'Contact', ['title', 'customFields.colour']),
    ).toBe(2);
    expect(await mappings.countLinksWithLocalChanges(connectionId, 'Contact', [])).toBe(0);
    await expect(
      mappings.countLinksWithLocalChanges(connectionId, 'Contact', ['id; drop table x']),
    ).rejects.toThrow('Not a contact field');
  });

  it('goes with its connection', async () => {
    const em = orm.em.fork();
    await em.nativeDelete(CrmConnection, { id: otherConnectionId });
    await mappings.findOrSeed(connectionId, 'Contact', DEFAULTS);
    expect(await mappings.find(otherConnectionId, 'Contact')).toBeNull();
  });
});
