import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Company, Contact, SyncRun, type ConnectionSettings } from '@pm/domain';
import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type IntegrationPort,
  type UpsertBatchRequest,
} from '@pm/integration-port';
import { startHubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { startPipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { connect as salesforceSession, startSalesforceTestBed } from '@pm/connectors/salesforce/testing';
import { ContactSyncRunner } from '@pm/sync-engine';
import { CountingPort } from '@pm/sync-engine/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CompanyService } from '../companies/company.service';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalCompanyStoreAdapter } from './local-company-store';
import { LocalContactStoreAdapter } from './local-contact-store';
import { toSyncConnection } from './sync-executor';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

/** One CRM's sandbox as the company test sees it: its objects, and changes and reads made directly in it. */
interface CompanyCrm {
  contactObject: string;
  companyObject: string;
  port: IntegrationPort;
  session: CrmSession;
  /** Creates a company in the CRM itself (not through the port under test); returns its id. */
  createCompany(name: string, domain: string): string;
  renameCompany(id: string, name: string): void;
  /** Deletes in the CRM; undefined where reading changes reports no deletions (Pipedrive: webhooks only). */
  deleteCompany?: (id: string) => void;
  companies(): { id: string; name: string; website: string | null }[];
  /** The id of the company the CRM associates the contact with. */
  companyOfContact(email: string): Promise<string | undefined>;
  close(): Promise<void>;
}

const sameId = (a: string | null | undefined, b: string | null | undefined) =>
  typeof a === 'string' && typeof b === 'string' && a.slice(0, 15) === b.slice(0, 15);

async function salesforce(): Promise<CompanyCrm> {
  const bed = await startSalesforceTestBed();
  const { sandbox } = bed;
  return {
    contactObject: 'Contact',
    companyObject: 'Account',
    port: bed.connector,
    session: await salesforceSession(sandbox, bed.connector),
    createCompany: (name, domain) =>
      sandbox.stageRecords('Account', [{ Name: name, Website: `https://www.${domain}/` }])[0].id,
    renameCompany: (id, name) => void sandbox.editInCrm('Account', id, { Name: name }),
    deleteCompany: (id) => sandbox.deleteInCrm('Account', id),
    companies: () =>
      sandbox.records('Account').map((r) => ({
        id: r.id,
        name: String(r.fields.Name),
        website: (r.fields.Website as string | null) ?? null,
      })),
    companyOfContact: async (email) =>
      sandbox.records('Contact').find((r) => r.fields.Email === email)?.fields.AccountId as
        | string
        | undefined,
    close: () => bed.close(),
  };
}

async function hubspot(): Promise<CompanyCrm> {
  const bed = await startHubSpotTestBed();
  const { sandbox } = bed;
  const session = await bed.session();
  return {
    contactObject: 'contacts',
    companyObject: 'companies',
    port: bed.connector,
    session,
    createCompany: (name, domain) => sandbox.createInCrm('companies', { name, domain }).id,
    renameCompany: (id, name) => void sandbox.editInCrm('companies', id, { name }),
    deleteCompany: (id) => void sandbox.deleteInCrm('companies', id),
    companies: () =>
      sandbox.records('companies').map((r) => ({
        id: r.id,
        name: r.properties.name,
        website: r.properties.domain ?? null,
      })),
    companyOfContact: async (email) => {
      const contact = sandbox.records('contacts').find((r) => r.properties.email === email);
      if (!contact) return undefined;
      const [read] = await bed.connector.getRecords(session, { object: 'contacts', ids: [contact.id] });
      return read?.associations?.companies?.[0];
    },
    close: () => bed.close(),
  };
}

async function pipedrive(): Promise<CompanyCrm> {
  const bed = await startPipedriveTestBed();
  const { sandbox } = bed;
  const primaryEmail = (r: Record<string, unknown>) =>
    (r.emails as { value: string; primary?: boolean }[] | undefined)?.find((e) => e.primary)?.value;
  return {
    contactObject: 'persons',
    companyObject: 'organizations',
    port: bed.connector,
    session: await bed.session(),
    createCompany: (name, domain) =>
      String(sandbox.createInCrm('organizations', { name, website: `https://${domain}` }).id),
    renameCompany: (id, name) => void sandbox.editInCrm('organizations', id, { name }),
    companies: () =>
      sandbox.records('organizations').map((r) => ({
        id: String(r.id),
        name: String(r.name),
        website: (r.website as string | null) ?? null,
      })),
    companyOfContact: async (email) => {
      const person = sandbox.records('persons').find((r) => primaryEmail(r) === email);
      return person?.org_id === null || person?.org_id === undefined ? undefined : String(person.org_id);
    },
    close: () => bed.close(),
  };
}

const CRMS: [string, () => Promise<CompanyCrm>][] = [
  ['Salesforce', salesforce],
  ['HubSpot', hubspot],
  ['Pipedrive', pipedrive],
];

/**
 * Companies synced as their own object with the real connectors (official SDKs over HTTP) against each CRM's
 * sandbox, on PostgreSQL: both ways, matched before any create (a retried create included), contacts associated
 * with their company on the CRM side, renames each way, and deletions by the connection's rules.
 */
describe('company sync against each CRM sandbox', () => {
  let database: TestDatabase;
  let app: INestApplication;

  // One database and app for the three CRMs (each syncs its own tenant): only the sandboxes differ.
  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  describe.each(CRMS)('with the %s connector', (name, start) => {
    let crm: CompanyCrm;

    beforeAll(async () => {
      crm = await start();
    });

    afterAll(async () => {
      await crm?.close();
    });

    it('syncs companies both ways without duplicates, associates contacts, follows renames and deletions', async () => {
      const tenantId = `companies-${name.toLowerCase()}`;
      const settings: Partial<ConnectionSettings> = {
        objects: [crm.contactObject, crm.companyObject],
        propagateDeletes: true,
      };
      // The first company write reaches the CRM but its answer is lost (armed below).
      let loseNextCompanyAnswer = false;
      const losing: IntegrationPort = Object.create(crm.port, {
        upsertBatch: {
          writable: true,
          configurable: true,
          value: async (session: CrmSession, request: UpsertBatchRequest) => {
            const results = await crm.port.upsertBatch(session, request);
            if (request.object === crm.companyObject && loseNextCompanyAnswer) {
              loseNextCompanyAnswer = false;
              throw new CrmError(CrmErrorCode.TIMEOUT, 'no answer within 30 s');
            }
            return results;
          },
        },
      });
      const counting = new CountingPort(losing);
      const entity = await seedConnection(app, { tenantId, provider: crm.port.provider, settings });
      const connection = toSyncConnection(entity);
      const orm = app.get<MikroORM>(CRM_ORM);
      const run = async () => {
        const em = orm.em.fork();
        const row = em.create(SyncRun, { tenant: tenantId, connection: connection.id, trigger: 'manual' });
        await em.flush();
        const outcome = await new ContactSyncRunner({
          port: counting.port,
          sessions: { getSession: async () => crm.session, refreshSession: async () => crm.session },
          links: app.get(RecordLinkRepository),
          cursors: app.get(SyncCursorRepository),
          locals: app.get(LocalContactStoreAdapter),
          companies: app.get(LocalCompanyStoreAdapter),
          retries: app.get(SyncRetryRepository),
          log: app.get(SyncLogRepository),
          options: { sleep: async () => undefined },
        }).run({ connection, runId: row.id });
        expect({ status: outcome.status, error: String(outcome.error ?? '') }).toEqual({
          status: 'succeeded',
          error: '',
        });
        return outcome;
      };
      const auth = { actor: 'test', tenantId: null };
      const companies = app.get(CompanyService);
      const upsertCompany = (values: { name: string; domain?: string }) =>
        inRequest(app, () => companies.upsert(auth, tenantId, values));
      const localCompanies = async () =>
        (await orm.em.fork().find(Company, { tenant: tenantId }, { orderBy: { name: 'asc' } })).map((c) => ({
          name: c.name,
          domain: c.domain ?? null,
          deleted: c.deletedAt !== null && c.deletedAt !== undefined,
        }));
      const crmCompany = (companyName: string) => crm.companies().find((c) => c.name === companyName);

      // In the CRM: Globex and Hooli, each with a web address. In PenguinMails: Acme (a domain) and Hooli (a name
      // only), and two contacts, one at Acme and one at Initech, a company PenguinMails has no record of yet.
      const globexId = crm.createCompany('Globex', 'globex.example');
      crm.createCompany('Hooli', 'hooli.example');
      await upsertCompany({ name: 'Acme', domain: 'acme.example' });
      await upsertCompany({ name: ' Hooli ' });
      const contacts = app.get(ContactService);
      for (const [email, company] of [
        ['ada@acme.example', 'Acme'],
        ['bob@initech.example', 'Initech'],
      ]) {
        await inRequest(app, () =>
          contacts.upsert(auth, tenantId, { email, firstName: 'Test', lastName: 'Person', company }),
        );
      }
      // The first company write reaches the CRM, but its answer is lost: the retry must look the creates up again.
      loseNextCompanyAnswer = true;

      const first = await run();
      expect(loseNextCompanyAnswer).toBe(false);
      expect(first.retriedCalls).toBeGreaterThanOrEqual(1);
      expect(
        crm
          .companies()
          .map((c) => c.name)
          .sort(),
      ).toEqual(['Acme', 'Globex', 'Hooli', 'Initech']);
      expect(await localCompanies()).toEqual([
        { name: 'Acme', domain: 'acme.example', deleted: false },
        { name: 'Globex', domain: 'globex.example', deleted: false },
        // Matched by name, and the domain the CRM holds filled in.
        { name: 'Hooli', domain: 'hooli.example', deleted: false },
        { name: 'Initech', domain: null, deleted: false },
      ]);
      expect(crmCompany('Acme')?.website).toMatch(/acme\.example/);
      expect(sameId(await crm.companyOfContact('ada@acme.example'), crmCompany('Acme')?.id)).toBe(true);
      expect(sameId(await crm.companyOfContact('bob@initech.example'), crmCompany('Initech')?.id)).toBe(true);

      // Settled: nothing more to write, nothing created.
      counting.reset();
      await run();
      expect(counting.calls.upsertBatch).toBe(0);
      expect(crm.companies()).toHaveLength(4);

      // A rename each way.
      await upsertCompany({ name: 'Acme Labs', domain: 'acme.example' });
      crm.renameCompany(globexId, 'Globex Corporation');
      await run();
      expect(crmCompany('Acme Labs')).toBeDefined();
      expect((await localCompanies()).map((c) => c.name)).toEqual([
        'Acme Labs',
        'Globex Corporation',
        'Hooli',
        'Initech',
      ]);
      // A company's contacts name it by its new name, and stay associated with the same CRM record.
      expect(
        (await orm.em.fork().findOne(Contact, { tenant: tenantId, email: 'ada@acme.example' }))?.company,
      ).toBe('Acme Labs');
      expect(sameId(await crm.companyOfContact('ada@acme.example'), crmCompany('Acme Labs')?.id)).toBe(true);
      expect(crm.companies()).toHaveLength(4);

      // Deleted in PenguinMails, with propagateDeletes: deleted in the CRM.
      const hooli = await orm.em.fork().findOneOrFail(Company, { tenant: tenantId, nameKey: 'hooli' });
      await inRequest(app, () => companies.remove(auth, tenantId, hooli.id));
      const deletion = await run();
      expect(deletion.counts.to_crm?.[crm.companyObject]?.deleted).toBe(1);
      expect(crmCompany('Hooli')).toBeUndefined();

      // Deleted in the CRM, with propagateDeletes: deleted in PenguinMails (where reading changes reports it).
      if (crm.deleteCompany) {
        crm.deleteCompany(globexId);
        const crmDeletion = await run();
        expect(crmDeletion.counts.from_crm?.[crm.companyObject]?.deleted).toBe(1);
        expect((await localCompanies()).find((c) => c.name === 'Globex Corporation')?.deleted).toBe(true);
      }
      expect(
        crm
          .companies()
          .map((c) => c.name)
          .sort(),
      ).toEqual(
        crm.deleteCompany ? ['Acme Labs', 'Initech'] : ['Acme Labs', 'Globex Corporation', 'Initech'],
      );

      // A contact moving to another company is associated with that one instead (its old association removed).
      await inRequest(app, () =>
        contacts.upsert(auth, tenantId, { email: 'ada@acme.example', company: 'Initech' }),
      );
      await run();
      expect(sameId(await crm.companyOfContact('ada@acme.example'), crmCompany('Initech')?.id)).toBe(true);
      expect(crm.companies()).toHaveLength(crm.deleteCompany ? 2 : 3);
    });
  });
});
