import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Contact, FieldMappingConfig } from '@pm/domain';
import { InMemoryConnector, InMemoryCrm, IN_MEMORY_DEFAULT_MAPPINGS } from '@pm/integration-port/testing';
import { inMemorySessions } from '@pm/sync-engine/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { SyncExecutor } from '../sync/sync-executor';
import { inRequest, seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';

const TOKEN = 'platform-token-stored-mappings-0123456789abcdef';

/**
 * The sync executor as the app binds it (no SYNC_FIELD_MAPPINGS override): the first run seeds the connector's
 * defaults, and a mapping saved through the API applies from the next run.
 */
describe('the sync executor with the tenant’s stored mapping', () => {
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

  it('syncs with the defaults before anyone edits, then with the saved mapping from the next run', async () => {
    const connection = await seedConnection(app, { tenantId: 'stored', provider: 'in-memory' });
    const contacts = app.get(ContactService);
    const auth = { actor: 'test', tenantId: null };
    await inRequest(app, () =>
      contacts.upsert(auth, 'stored', {
        email: 'ada@example.com',
        firstName: 'Ada',
        customFields: { employer: 'Analytical Engines' },
      }),
    );
    const execute = () =>
      app.get(SyncExecutor).execute({ connectionId: connection.id, tenantId: 'stored', runId: randomUUID() });

    expect(await execute()).toBe('ran');
    const orm = app.get<MikroORM>(CRM_ORM);
    const seeded = await orm.em.fork().findOneOrFail(FieldMappingConfig, { connection: connection.id });
    expect(seeded).toMatchObject({
      object: 'contacts',
      version: 1,
      mapping: IN_MEMORY_DEFAULT_MAPPINGS.contacts,
    });
    const record = () =>
      crm.listRecords('contacts').find((candidate) => candidate.fields.email === 'ada@example.com');
    expect(record()?.fields).toMatchObject({ firstname: 'Ada' });
    expect(record()?.fields.company).toBeUndefined();

    const fields = [
      ...IN_MEMORY_DEFAULT_MAPPINGS.contacts.fields.filter((entry) => entry.local !== 'company'),
      { local: 'customFields.employer', crm: 'company', direction: 'both', codec: 'text' },
    ];
    await request(app.getHttpServer())
      .put(`/api/v1/tenants/stored/connections/${connection.id}/mappings`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ object: 'contacts', fields })
      .expect(200);
    expect(await execute()).toBe('ran');
    expect(record()?.fields.company).toBe('Analytical Engines');

    crm.updateRecord('contacts', record()!.id, { company: 'Difference Engines' });
    expect(await execute()).toBe('ran');
    const ada = await orm.em.fork().findOneOrFail(Contact, { tenant: 'stored', email: 'ada@example.com' });
    expect(ada.customFields).toEqual({ employer: 'Difference Engines' });
  });
});
