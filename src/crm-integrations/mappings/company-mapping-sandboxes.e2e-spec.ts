import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MikroORM } from '@mikro-orm/postgresql';
import { Company, CrmConnection, SyncRun } from '@pm/domain';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { v1, v2 } from 'pipedrive';
import { startHubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { startPipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { connect as salesforceSession, startSalesforceTestBed } from '@pm/connectors/salesforce/testing';
import { ContactSyncRunner } from '@pm/sync-engine';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalCompanyStoreAdapter } from '../sync/local-company-store';
import { LocalContactStoreAdapter } from '../sync/local-contact-store';
import { toSyncConnection } from '../sync/sync-executor';
import { seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';
import { StoredFieldMappingSource } from './stored-field-mapping.source';

const PLATFORM_TOKEN = 'platform-token-for-company-mapping-tests-0123456789';

/** A CRM sandbox with a custom company field, as a tenant's admin would add one. */
interface CompanyMappingBed {
  provider: string;
  port: IntegrationPort;
  session: CrmSession;
  contactObject: string;
  companyObject: string;
  /** The custom company field's CRM name. */
  tier: string;
  /** The company's custom field as the CRM holds it, found by name. */
  tierInCrm(name: string): unknown;
  /** An edit made in the CRM itself. */
  setTierInCrm(name: string, value: string): void | Promise<unknown>;
  close(): Promise<void>;
}

async function hubSpotBed(): Promise<CompanyMappingBed> {
  const bed = await startHubSpotTestBed();
  const { sandbox } = bed;
  sandbox.portal.properties.create(
    'companies',
    { name: 'pm_tier', label: 'Tier', type: 'string', fieldType: 'text', groupName: 'companyinformation' },
    new Date(),
  );
  const find = (name: string) => sandbox.records('companies').find((r) => r.properties.name === name);
  return {
    provider: bed.connector.provider,
    port: bed.connector,
    session: await bed.session(),
    contactObject: 'contacts',
    companyObject: 'companies',
    tier: 'pm_tier',
    tierInCrm: (name) => find(name)?.properties.pm_tier,
    setTierInCrm: (name, value) => void sandbox.editInCrm('companies', find(name)!.id, { pm_tier: value }),
    close: () => bed.close(),
  };
}

async function salesforceBed(): Promise<CompanyMappingBed> {
  const bed = await startSalesforceTestBed();
  const { sandbox } = bed;
  sandbox.schema.addCustomField('Account', { name: 'Tier__c', label: 'Tier', type: 'string', length: 80 });
  const find = (name: string) => sandbox.records('Account').find((r) => r.fields.Name === name);
  return {
    provider: bed.connector.provider,
    port: bed.connector,
    session: await salesforceSession(sandbox, bed.connector),
    contactObject: 'Contact',
    companyObject: 'Account',
    tier: 'Tier__c',
    tierInCrm: (name) => find(name)?.fields.Tier__c,
    setTierInCrm: (name, value) => void sandbox.editInCrm('Account', find(name)!.id, { Tier__c: value }),
    close: () => bed.close(),
  };
}

/** Pipedrive: the admin adds the organization field and edits the organization through the official SDK. */
async function pipedriveBed(): Promise<CompanyMappingBed> {
  const bed = await startPipedriveTestBed();
  const { sandbox } = bed;
  const session = await bed.session();
  const accessToken = () => session.accessToken;
  const organizationFields = new v1.OrganizationFieldsApi(
    new v1.Configuration({ accessToken, basePath: `${sandbox.baseUrl}/v1` }),
  );
  const organizations = new v2.OrganizationsApi(
    new v2.Configuration({ accessToken, basePath: `${sandbox.baseUrl}/api/v2` }),
  );
  const added = await organizationFields.addOrganizationField({
    CreateFieldRequest: { name: 'Tier', field_type: 'varchar' },
  });
  const tier = added.data!.key!;
  const find = (name: string) => sandbox.records('organizations').find((r) => r.name === name);
  return {
    provider: bed.connector.provider,
    port: bed.connector,
    session,
    contactObject: 'persons',
    companyObject: 'organizations',
    tier,
    tierInCrm: (name) => (find(name)?.custom_fields as Record<string, unknown> | undefined)?.[tier],
    setTierInCrm: (name, value) =>
      organizations.updateOrganization({
        id: Number(find(name)!.id),
        UpdateOrganizationRequest: { custom_fields: { [tier]: value } },
      }),
    close: () => bed.close(),
  };
}

/**
 * Company objects through the same mapping machinery as contacts, against each sandbox with its real connector:
 * the stored mapping seeded from the connector's company defaults, discovery of the company object's fields, a
 * validated save with a custom company field, the engine syncing that field both ways, and a preview against a
 * company.
 */
describe.each([
  ['HubSpot', hubSpotBed],
  ['Salesforce', salesforceBed],
  ['Pipedrive', pipedriveBed],
])('company field mapping against the %s sandbox', (_name, start) => {
  let database: TestDatabase;
  let app: INestApplication;
  let bed: CompanyMappingBed;
  let http: ReturnType<typeof request>;
  let connectionId: string;
  let base: string;
  const tenantId = 'company-mapper';
  const auth = { Authorization: `Bearer ${PLATFORM_TOKEN}` };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await start();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { [bed.provider]: bed.port },
      sessions: { getSession: async () => bed.session, refreshSession: async () => bed.session },
      platformServiceToken: PLATFORM_TOKEN,
    });
    http = request(app.getHttpServer());
    const connection = await seedConnection(app, {
      tenantId,
      provider: bed.provider,
      settings: { objects: [bed.contactObject, bed.companyObject] },
    });
    connectionId = connection.id;
    base = `/api/v1/tenants/${tenantId}/connections/${connectionId}`;
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  const orm = () => app.get<MikroORM>(CRM_ORM);

  /** One engine run with the stored mappings, contacts' and companies' alike, as the sync executor runs it. */
  const run = async () => {
    const em = orm().em.fork();
    const row = em.create(SyncRun, { tenant: tenantId, connection: connectionId, trigger: 'manual' });
    await em.flush();
    const connection = toSyncConnection(await em.findOneOrFail(CrmConnection, connectionId));
    const outcome = await new ContactSyncRunner({
      port: bed.port,
      sessions: { getSession: async () => bed.session, refreshSession: async () => bed.session },
      links: app.get(RecordLinkRepository),
      cursors: app.get(SyncCursorRepository),
      locals: app.get(LocalContactStoreAdapter),
      companies: app.get(LocalCompanyStoreAdapter),
      retries: app.get(SyncRetryRepository),
      log: app.get(SyncLogRepository),
      mappings: app.get(StoredFieldMappingSource),
      companyMappings: app.get(StoredFieldMappingSource),
      options: { sleep: async () => undefined },
    }).run({ connection, runId: row.id });
    expect({ status: outcome.status, error: String(outcome.error ?? '') }).toEqual({
      status: 'succeeded',
      error: '',
    });
  };
  const localCompany = (name: string) => orm().em.fork().findOneOrFail(Company, { tenant: tenantId, name });

  it('serves, validates and saves the company object’s mapping, then syncs a custom company field both ways', async () => {
    // Seeded from the connector's company defaults: listed with the contact object, no e-mail key.
    const listed = await http.get(`${base}/mappings`).set(auth).expect(200);
    expect(listed.body.map((mapping: { object: string }) => mapping.object)).toContain(bed.companyObject);
    const seeded = await http
      .get(`${base}/mappings`)
      .query({ object: bed.companyObject })
      .set(auth)
      .expect(200);
    expect(seeded.body[0]).toMatchObject({ object: bed.companyObject, matchField: null, version: 1 });
    const defaults = seeded.body[0].fields;
    expect(defaults.some((entry: { local: string }) => entry.local === 'name')).toBe(true);

    // Discovery of the company object, the custom field included.
    const fields = await http
      .get(`${base}/fields`)
      .query({ object: bed.companyObject })
      .set(auth)
      .expect(200);
    expect(fields.body[0].fields.find((field: { name: string }) => field.name === bed.tier)).toMatchObject({
      custom: true,
      type: 'string',
    });

    // Validation names the field: a contact field is no company field; companies have no e-mail key.
    const refused = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({
        object: bed.companyObject,
        matchField: bed.tier,
        fields: [...defaults, { local: 'firstName', crm: bed.tier, direction: 'both', codec: 'text' }],
      })
      .expect(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    const names = refused.body.invalidParams.map((problem: { name: string }) => problem.name);
    expect(names).toEqual(expect.arrayContaining(['matchField', `fields[${defaults.length}].local`]));

    const saved = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({
        object: bed.companyObject,
        fields: [
          ...defaults,
          { local: 'customFields.tier', crm: bed.tier, direction: 'both', codec: 'text' },
        ],
      })
      .expect(200);
    expect(saved.body).toMatchObject({ version: 2, updatedBy: expect.any(String) });

    // PenguinMails → CRM: a local company's custom field (set through the companies API) reaches the CRM company.
    const created = await http
      .post(`/api/v1/tenants/${tenantId}/companies`)
      .set(auth)
      .send({ name: 'Tiered Ltd', domain: 'tiered.example', customFields: { tier: 'gold' } })
      .expect(201);
    expect(created.body).toMatchObject({ customFields: { tier: 'gold' } });
    const company = await localCompany('Tiered Ltd');
    await run();
    expect(bed.tierInCrm('Tiered Ltd')).toBe('gold');

    // CRM → PenguinMails: an edit in the CRM reaches the local company's custom field.
    await bed.setTierInCrm('Tiered Ltd', 'platinum');
    await run();
    expect((await localCompany('Tiered Ltd')).customFields).toEqual({ tier: 'platinum' });

    // Preview against the company: the custom field as it would be written to the CRM.
    const preview = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.companyObject, companyId: company.id })
      .expect(200);
    expect(preview.body).toMatchObject({ object: bed.companyObject, companyId: company.id, problems: [] });
    expect(
      preview.body.fields.find((field: { key: string }) => field.key === 'customFields.tier'),
    ).toMatchObject({ toCrm: { value: 'platinum' } });
    await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.companyObject, email: 'ada@example.com' })
      .expect(400);
  });
});
