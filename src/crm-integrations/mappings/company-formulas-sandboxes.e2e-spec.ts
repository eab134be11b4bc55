import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Client } from '@hubspot/api-client';
import { MikroORM } from '@mikro-orm/postgresql';
import { Company, CrmConnection, SyncLogEntry, SyncRun } from '@pm/domain';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
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

const PLATFORM_TOKEN = 'platform-token-for-company-formula-tests-0123456789';

/** The HubSpot `domain` computed from the company's website: scheme, `www.` and path dropped, lower-cased. */
const DOMAIN_FROM_WEBSITE =
  "customFields.website ? $lowercase($replace(customFields.website, /^(https?:\\/\\/)?(www\\.)?([^\\/]+).*$/i, '$3')) : $error('no website for ' & name)";
/** The company's `customFields.headcount` computed from two HubSpot properties. */
const HEADCOUNT = "name & ': ' & numberofemployees & ' people'";

/**
 * Formulas on company mapping entries against the HubSpot sandbox, with HubSpot's official SDK on the CRM side: a
 * save refused for each bad formula (problem+json naming the field), a HubSpot company `domain` computed from a
 * PenguinMails website, a PenguinMails custom field computed from HubSpot properties, a company whose formula throws
 * failing alone, and the preview of both formulas.
 */
describe('company formulas against the HubSpot sandbox', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let bed: HubSpotTestBed;
  let hubspot: Client;
  let http: ReturnType<typeof request>;
  let connectionId: string;
  let base: string;
  const tenantId = 'company-formulas';
  const auth = { Authorization: `Bearer ${PLATFORM_TOKEN}` };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startHubSpotTestBed();
    const session = await bed.session();
    hubspot = new Client({ accessToken: session.accessToken, basePath: bed.baseUrl });
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { [bed.connector.provider]: bed.connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      platformServiceToken: PLATFORM_TOKEN,
    });
    http = request(app.getHttpServer());
    const connection = await seedConnection(app, {
      tenantId,
      provider: bed.connector.provider,
      settings: { objects: ['contacts', 'companies'] },
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

  /** One engine run with the stored mappings, as the sync executor runs it. */
  const run = async () => {
    const em = orm().em.fork();
    const row = em.create(SyncRun, { tenant: tenantId, connection: connectionId, trigger: 'manual' });
    await em.flush();
    const connection = toSyncConnection(await em.findOneOrFail(CrmConnection, connectionId));
    const session = await bed.session();
    const sessions = { getSession: async () => session, refreshSession: async () => session };
    const outcome = await new ContactSyncRunner({
      port: bed.connector,
      sessions,
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
    const log = await orm()
      .em.fork()
      .find(SyncLogEntry, { run: row.id }, { orderBy: { id: 'asc' } });
    return { status: outcome.status, messages: log.map((line) => line.message) };
  };
  const hubSpotCompany = async (name: string) => {
    const page = await hubspot.crm.companies.basicApi.getPage(100, undefined, [
      'name',
      'domain',
      'numberofemployees',
    ]);
    return page.results.find((company) => company.properties.name === name);
  };
  const localCompany = (name: string) => orm().em.fork().findOneOrFail(Company, { tenant: tenantId, name });

  it('refuses bad company formulas by field, then computes values both ways, a failing one failing only its company', async () => {
    const seeded = await http.get(`${base}/mappings`).query({ object: 'companies' }).set(auth).expect(200);
    const nameEntry = seeded.body[0].fields.find((entry: { local?: string }) => entry.local === 'name');

    const refused = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({
        object: 'companies',
        fields: [
          nameEntry,
          { crm: 'domain', direction: 'to_crm', formula: { toCrm: '$lowercase(customFields.website' } },
          { crm: 'city', direction: 'to_crm', formula: { toCrm: 'firstName' } },
          { local: 'customFields.headcount', direction: 'from_crm', formula: { fromCrm: 'numberofstaff' } },
          { local: 'domain', direction: 'from_crm', codec: 'domain', formula: { fromCrm: 'website' } },
        ],
      })
      .expect(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    const problems = refused.body.invalidParams as { name: string; reason: string }[];
    const reason = (name: string) => problems.find((problem) => problem.name === name)?.reason;
    expect(reason('fields[1].formula.toCrm')).toMatch(/^not a valid JSONata formula/);
    expect(reason('fields[2].formula.toCrm')).toBe('reads "firstName", which is not a field here');
    expect(reason('fields[3].formula.fromCrm')).toBe('reads "numberofstaff", which is not a field here');
    expect(reason('fields[4].formula.fromCrm')).toContain('a formula cannot compute domain');

    await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({
        object: 'companies',
        fields: [
          nameEntry,
          { crm: 'domain', direction: 'to_crm', formula: { toCrm: DOMAIN_FROM_WEBSITE } },
          { local: 'customFields.headcount', direction: 'from_crm', formula: { fromCrm: HEADCOUNT } },
        ],
      })
      .expect(200);

    // PenguinMails → HubSpot: the domain computed from the website; the company without one fails alone.
    for (const company of [
      { name: 'Formula Ltd', customFields: { website: 'https://WWW.Formula-Ltd.Example/about' } },
      { name: 'No Site Ltd' },
    ]) {
      await http.post(`/api/v1/tenants/${tenantId}/companies`).set(auth).send(company).expect(201);
    }
    const first = await run();
    expect(first.status).toBe('partial');
    expect(first.messages).toContain(
      'Company not synced: No Site Ltd → HubSpot: Formula for =domain failed: no website for No Site Ltd',
    );
    const formulaLtd = await hubSpotCompany('Formula Ltd');
    expect(formulaLtd?.properties.domain).toBe('formula-ltd.example');
    expect(await hubSpotCompany('No Site Ltd')).toBeUndefined();

    // HubSpot → PenguinMails: an edit through the SDK reaches the computed custom field.
    await hubspot.crm.companies.basicApi.update(formulaLtd!.id, { properties: { numberofemployees: '42' } });
    const second = await run();
    expect((await localCompany('Formula Ltd')).customFields).toMatchObject({
      headcount: 'Formula Ltd: 42 people',
    });
    expect(second.messages.filter((message) => message.includes('Formula Ltd'))).not.toContainEqual(
      expect.stringContaining('not synced'),
    );

    // Preview on the company and its HubSpot record: each formula's value.
    const preview = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({
        object: 'companies',
        companyId: (await localCompany('Formula Ltd')).id,
        crmRecordId: formulaLtd!.id,
      })
      .expect(200);
    const field = (key: string) => preview.body.fields.find((entry: { key: string }) => entry.key === key);
    expect(field('=domain')).toMatchObject({ toCrm: { value: 'formula-ltd.example' } });
    expect(field('customFields.headcount')).toMatchObject({ fromCrm: { value: 'Formula Ltd: 42 people' } });
  });
});
