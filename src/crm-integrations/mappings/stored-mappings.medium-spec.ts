import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Company, Contact, FieldMappingConfig } from '@pm/domain';
import {
  InMemoryConnector,
  InMemoryCrm,
  IN_MEMORY_DEFAULT_COMPANY_MAPPINGS,
  IN_MEMORY_DEFAULT_MAPPINGS,
} from '@pm/integration-port/testing';
import { companyMappingAsObjectMapping } from '@pm/sync-engine';
import { CompanyService } from '../companies/company.service';
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

  it('a company object’s mapping is seeded, saved and applied the same way, its impact counted on companies', async () => {
    const connection = await seedConnection(app, {
      tenantId: 'stored-companies',
      provider: 'in-memory',
      settings: { objects: ['contacts', 'companies'] },
    });
    const auth = { actor: 'test', tenantId: null };
    await inRequest(app, () =>
      app.get(CompanyService).upsert(auth, 'stored-companies', { name: 'Acme', domain: 'acme.com' }),
    );
    const orm = app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const acme = await em.findOneOrFail(Company, { tenant: 'stored-companies', name: 'Acme' });
    acme.customFields = { tier: 'gold' };
    await em.flush();
    const execute = () =>
      app
        .get(SyncExecutor)
        .execute({ connectionId: connection.id, tenantId: 'stored-companies', runId: randomUUID() });

    expect(await execute()).toBe('ran');
    const seeded = await orm.em
      .fork()
      .findOneOrFail(FieldMappingConfig, { connection: connection.id, object: 'companies' });
    expect(seeded).toMatchObject({
      version: 1,
      mapping: companyMappingAsObjectMapping(IN_MEMORY_DEFAULT_COMPANY_MAPPINGS.companies),
    });
    const record = () => crm.listRecords('companies').find((candidate) => candidate.fields.name === 'Acme');
    expect(record()?.fields.tier).toBeUndefined();

    const put = (direction: string) =>
      request(app.getHttpServer())
        .put(`/api/v1/tenants/stored-companies/connections/${connection.id}/mappings`)
        .set('Authorization', `Bearer ${TOKEN}`)
        .send({
          object: 'companies',
          fields: [
            ...IN_MEMORY_DEFAULT_COMPANY_MAPPINGS.companies.fields,
            { local: 'customFields.tier', crm: 'tier', direction, codec: 'text' },
          ],
        })
        .expect(200);
    // Added as from_crm first: nothing local will be written; then to_crm: Acme's tier will be (the other linked
    // company, from the CRM's contacts of the first test, has none).
    expect((await put('from_crm')).body.impact).toMatchObject({ recordsThatWillChange: 0 });
    expect((await put('to_crm')).body.impact).toMatchObject({
      changedFields: ['customFields.tier'],
      recordsThatWillChange: 1,
    });
    expect(await execute()).toBe('ran');
    expect(record()?.fields.tier).toBe('gold');
  });
});
