import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Contact, RecordLink } from '@pm/domain';
import { InMemoryConnector, InMemoryCrm, IN_MEMORY_DEFAULT_MAPPINGS } from '@pm/integration-port/testing';
import { inMemorySessions } from '@pm/sync-engine/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { SyncExecutor } from '../sync/sync-executor';
import { inRequest, seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';

const TOKEN = 'platform-token-matching-key-0123456789abcdef';

const memberId = { local: 'customFields.memberId', crm: 'external_id', direction: 'both', codec: 'text' };
const fields = [...IN_MEMORY_DEFAULT_MAPPINGS.contacts.fields, memberId];

/**
 * The matching key through the API (validated, each error naming `matchField` or `matchLocalField`, a change
 * re-comparing linked records) and the sync executor on PostgreSQL matching a CRM record to the contact holding its
 * key value in `customFields`.
 */
describe('a configurable matching key', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let crm: InMemoryCrm;

  beforeAll(async () => {
    database = await createTestDatabase();
    crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm);
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { 'in-memory': connector },
      sessions: inMemorySessions(crm, connector),
      platformServiceToken: TOKEN,
    });
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const put = (tenantId: string, connectionId: string, body: Record<string, unknown>) =>
    request(app.getHttpServer())
      .put(`/api/v1/tenants/${tenantId}/connections/${connectionId}/mappings`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ object: 'contacts', fields, ...body });

  it('refuses a key the CRM cannot match on, naming the field at fault', async () => {
    const connection = await seedConnection(app, { tenantId: 'key-invalid', provider: 'in-memory' });
    const problems = async (body: Record<string, unknown>) => {
      const answer = await put('key-invalid', connection.id, body).expect(400);
      expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
      return answer.body.invalidParams;
    };

    expect(await problems({ matchField: 'no_such_field', matchLocalField: 'customFields.memberId' })).toEqual(
      [{ name: 'matchField', reason: '"no_such_field" is not a field of contacts' }],
    );
    expect(
      await problems({ matchField: 'lifecyclestage', matchLocalField: 'customFields.memberId' }),
    ).toEqual([
      {
        name: 'matchField',
        reason:
          '"lifecyclestage" is a picklist field; a matching key must be a text, e-mail, phone, number or id field',
      },
    ]);
    expect(await problems({ matchField: 'external_id', matchLocalField: 'firstName' })).toEqual([
      {
        name: 'matchLocalField',
        reason: '"firstName" cannot be matched on: use email or a contact custom field (customFields.<name>)',
      },
    ]);
    const writesKey = { local: 'company', crm: 'external_id', direction: 'to_crm', codec: 'text' };
    expect(
      await problems({
        matchField: 'external_id',
        matchLocalField: 'customFields.memberId',
        fields: [...IN_MEMORY_DEFAULT_MAPPINGS.contacts.fields, writesKey],
      }),
    ).toEqual([
      {
        name: `fields[${IN_MEMORY_DEFAULT_MAPPINGS.contacts.fields.length}].crm`,
        reason: expect.stringContaining('"external_id" is the matching key'),
      },
    ]);
    // Nothing was saved: the mapping still matches on the e-mail.
    const current = await request(app.getHttpServer())
      .get(`/api/v1/tenants/key-invalid/connections/${connection.id}/mappings?object=contacts`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
    expect(current.body[0]).toMatchObject({ matchField: 'email', matchLocalField: 'email', version: 1 });
  });

  it('saves a custom key, counts the linked records to compare, and links by it instead of duplicating', async () => {
    const tenantId = 'key-custom';
    const connection = await seedConnection(app, { tenantId, provider: 'in-memory' });
    const auth = { actor: 'test', tenantId: null };
    const contacts = app.get(ContactService);
    await inRequest(app, () =>
      contacts.upsert(auth, tenantId, { email: 'linked@example.com', customFields: { memberId: 'M-0' } }),
    );
    const execute = () =>
      app.get(SyncExecutor).execute({ connectionId: connection.id, tenantId, runId: randomUUID() });
    expect(await execute()).toBe('ran');

    const saved = await put(tenantId, connection.id, {
      matchField: 'external_id',
      matchLocalField: 'customFields.memberId',
    }).expect(200);
    expect(saved.body).toMatchObject({
      matchField: 'external_id',
      matchLocalField: 'customFields.memberId',
      version: 2,
      impact: {
        linkedRecords: 1,
        recordsToCompare: 1,
        changedFields: ['matchField', 'customFields.memberId'],
      },
    });

    // The key's value is a number in one contact's customFields: matched by its text all the same.
    await inRequest(app, () =>
      contacts.upsert(auth, tenantId, { email: 'pm-side@example.com', customFields: { memberId: 'M-1' } }),
    );
    await inRequest(app, () =>
      contacts.upsert(auth, tenantId, { email: 'numeric@example.com', customFields: { memberId: 4711 } }),
    );
    const byKey = crm.createRecord('contacts', {
      email: 'crm-side@example.com',
      external_id: 'M-1',
      firstname: 'Kay',
    });
    const byNumber = crm.createRecord('contacts', { email: 'other@example.com', external_id: '4711' });
    expect(await execute()).toBe('ran');

    const orm = app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const tenantContacts = await em.find(Contact, { tenant: tenantId }, { orderBy: { email: 'asc' } });
    // No contact was created for either CRM record: each was linked to the contact holding its key.
    expect(tenantContacts.map((contact) => String(contact.customFields.memberId)).sort()).toEqual([
      '4711',
      'M-0',
      'M-1',
    ]);
    const links = await em.find(RecordLink, { connection: connection.id, unlinkedAt: null });
    const linkOf = (crmId: string) => links.find((link) => link.crmId === crmId);
    const keyed = tenantContacts.find((contact) => contact.customFields.memberId === 'M-1');
    expect(linkOf(byKey.id)?.localId).toBe(keyed?.id);
    expect(keyed).toMatchObject({ email: 'crm-side@example.com', firstName: 'Kay' });
    expect(linkOf(byNumber.id)).toBeDefined();
    expect(crm.listRecords('contacts')).toHaveLength(3);

    // Back to the e-mail: a key change again, re-compared, not re-pushed.
    const reset = await put(tenantId, connection.id, {
      matchField: 'email',
      matchLocalField: 'email',
    }).expect(200);
    expect(reset.body).toMatchObject({ matchField: 'email', matchLocalField: 'email' });
    expect(reset.body.impact).toMatchObject({ changedFields: ['matchField'], recordsToCompare: 3 });
  });
});
