import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, SyncRun, type ConnectionSettings } from '@pm/domain';
import type { CrmRecord, CrmSession, IntegrationPort } from '@pm/integration-port';
import type { ContractFixture } from '@pm/integration-port/testing';
import {
  hubSpotContractFixture,
  startHubSpotTestBed,
  type HubSpotTestBed,
} from '@pm/connectors/hubspot/testing';
import {
  pipedriveContractFixture,
  startPipedriveTestBed,
  type PipedriveTestBed,
} from '@pm/connectors/pipedrive/testing';
import { createContractFixture as salesforceContractFixture } from '@pm/connectors/salesforce/testing';
import { ContactSyncRunner, DefaultFieldMappingSource, decodeCrmRecord } from '@pm/sync-engine';
import { CountingPort } from '@pm/sync-engine/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { toSyncConnection } from './sync-executor';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from './local-contact-store';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

/** The engine on PostgreSQL with the default field mapping, for one tenant's connection to a sandbox CRM. */
async function syncHarness(
  app: INestApplication,
  port: IntegrationPort,
  session: CrmSession,
  tenantId: string,
  settings: Partial<ConnectionSettings>,
) {
  const orm = app.get<MikroORM>(CRM_ORM);
  const entity = await seedConnection(app, { tenantId, provider: port.provider, settings });
  const connection = toSyncConnection(entity);
  const run = async () => {
    const em = orm.em.fork();
    const row = em.create(SyncRun, { tenant: tenantId, connection: connection.id, trigger: 'manual' });
    await em.flush();
    return new ContactSyncRunner({
      port,
      sessions: { getSession: async () => session, refreshSession: async () => session },
      links: app.get(RecordLinkRepository),
      cursors: app.get(SyncCursorRepository),
      locals: app.get(LocalContactStoreAdapter),
      retries: app.get(SyncRetryRepository),
      log: app.get(SyncLogRepository),
      options: { sleep: async () => undefined },
    }).run({ connection, runId: row.id });
  };
  const local = async (email: string) => orm.em.fork().findOne(Contact, { tenant: tenantId, email });
  const contacts = app.get(ContactService);
  const auth = { actor: 'test', tenantId: null };
  const upsertLocal = (email: string, values: Record<string, string>) =>
    inRequest(app, () => contacts.upsert(auth, tenantId, { email, ...values }));
  const removeLocal = async (email: string) => {
    const contact = await local(email);
    await inRequest(app, () => contacts.remove(auth, tenantId, contact!.id));
  };
  return { connection, run, local, upsertLocal, removeLocal };
}

async function startApp(database: TestDatabase): Promise<INestApplication> {
  return startSyncTestApp({
    databaseUrl: database.url,
    connectors: {},
    sessions: {
      getSession: () => Promise.reject(new Error('unused')),
      refreshSession: () => Promise.reject(new Error('unused')),
    },
  });
}

const FIXTURES: [string, () => Promise<ContractFixture>][] = [
  ['HubSpot', hubSpotContractFixture],
  ['Salesforce', salesforceContractFixture],
  ['Pipedrive', pipedriveContractFixture],
];

/**
 * The engine with the real connectors (official SDKs over HTTP) against each CRM's sandbox, on PostgreSQL, with the
 * default field mapping: what runs in production, minus the token vault (a fixed sandbox session stands in).
 */
describe.each(FIXTURES)('contact sync with the %s connector against its sandbox', (name, build) => {
  let database: TestDatabase;
  let app: INestApplication;
  let fixture: ContractFixture;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startApp(database);
    fixture = await build();
  });

  afterAll(async () => {
    await fixture?.close?.();
    await app?.close();
    await database?.drop();
  });

  it('initial sync both ways, then incremental both ways, converge; the next run writes nothing', async () => {
    const counting = new CountingPort(fixture.port);
    const session = await fixture.session();
    const object = fixture.contact.object;
    const { run, local, upsertLocal } = await syncHarness(
      app,
      counting.port,
      session,
      `sandbox-${name.toLowerCase()}`,
      { objects: [object] },
    );
    const mapping = new DefaultFieldMappingSource(fixture.port).mappingFor(null, object);
    expect(mapping).toBeDefined();
    const remote = async (email: string): Promise<CrmRecord[]> =>
      counting.innerPort.findByEmail(session, object, [email]);
    const remoteValues = async (email: string) => {
      const [record] = await remote(email);
      return record && decodeCrmRecord(mapping!, record.fields);
    };

    const [crmOne] = await fixture.staging.createContacts([
      { email: 'crm.one@example.com', firstName: 'Cora', lastName: 'One' },
      { email: 'crm.two@example.com', firstName: 'Cole', lastName: 'Two' },
    ]);
    await upsertLocal('pm.one@example.com', { firstName: 'Pia', lastName: 'Local' });
    await upsertLocal('pm.two@example.com', { firstName: 'Pete', lastName: 'Local' });

    const first = await run();
    expect({ status: first.status, error: String(first.error ?? '') }).toEqual({
      status: 'succeeded',
      error: '',
    });
    expect(await local('crm.one@example.com')).toMatchObject({ firstName: 'Cora', lastName: 'One' });
    expect(await remoteValues('pm.one@example.com')).toMatchObject({ firstName: 'Pia', lastName: 'Local' });
    expect(await remote('pm.two@example.com')).toHaveLength(1);

    await fixture.staging.editContact(crmOne.id, { [fixture.contact.fields.firstName]: 'Coraline' });
    await upsertLocal('pm.two@example.com', { lastName: 'Edited' });
    const second = await run();
    expect(second.status).toBe('succeeded');
    expect(await local('crm.one@example.com')).toMatchObject({ firstName: 'Coraline' });
    expect(await remoteValues('pm.two@example.com')).toMatchObject({ firstName: 'Pete', lastName: 'Edited' });

    counting.reset();
    const third = await run();
    expect(third.status).toBe('succeeded');
    expect(counting.calls).toMatchObject({ upsertBatch: 0, findByEmail: 0 });
    expect(await remote('pm.one@example.com')).toHaveLength(1);
  });
});

/**
 * HubSpot keeps a contact's company as its own record: the engine reads the associated company's name (one
 * `getRecords` batch read per page) and, with propagateDeletes, archives the HubSpot contact of a contact deleted in
 * PenguinMails through the connector's batch archive.
 */
describe('HubSpot companies and deletions against the HubSpot sandbox', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let bed: HubSpotTestBed;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startApp(database);
    bed = await startHubSpotTestBed();
  });

  afterAll(async () => {
    await bed?.close();
    await app?.close();
    await database?.drop();
  });

  it('a contact’s company is its associated company’s name; a PenguinMails deletion archives the HubSpot contact', async () => {
    const counting = new CountingPort(bed.connector);
    const session = await bed.session();
    const { run, local, upsertLocal, removeLocal } = await syncHarness(
      app,
      counting.port,
      session,
      'sandbox-hubspot-companies',
      { objects: ['contacts'], propagateDeletes: true },
    );

    const acme = bed.sandbox.createInCrm('companies', { name: 'Acme Corp', domain: 'acme.example' });
    const associated = bed.sandbox.createInCrm('contacts', {
      email: 'ada@acme.example',
      firstname: 'Ada',
      company: 'Typed by hand',
    });
    bed.sandbox.associateInCrm('contacts', associated.id, 'companies', acme.id);
    bed.sandbox.createInCrm('contacts', { email: 'pat@plain.example', company: 'Plain Co' });
    await upsertLocal('leaving@example.com', { firstName: 'Lea' });

    const first = await run();
    expect({ status: first.status, error: String(first.error ?? '') }).toEqual({
      status: 'succeeded',
      error: '',
    });
    expect((await local('ada@acme.example'))?.company).toBe('Acme Corp');
    expect((await local('pat@plain.example'))?.company).toBe('Plain Co');
    expect(counting.calls.getRecords).toBe(1);
    // The contact's own company property is left as it was: the association is not copied into it.
    expect(bed.sandbox.record('contacts', associated.id)?.properties.company).toBe('Typed by hand');
    const [leaving] = await bed.connector.findByEmail(session, 'contacts', ['leaving@example.com']);
    expect(leaving).toBeDefined();

    await removeLocal('leaving@example.com');
    counting.reset();
    const deletion = await run();
    expect(deletion.status).toBe('succeeded');
    expect(deletion.counts.to_crm.contacts.deleted).toBe(1);
    expect(counting.calls.deleteRecords).toBe(1);
    expect(bed.sandbox.record('contacts', leaving.id)).toBeUndefined();

    // HubSpot reports the archive back; the link already ended, so the next run changes nothing anywhere.
    counting.reset();
    const settled = await run();
    expect(settled.status).toBe('succeeded');
    expect(counting.calls).toMatchObject({ upsertBatch: 0, deleteRecords: 0 });
    expect((await local('ada@acme.example'))?.deletedAt).toBeNull();
  });
});

describe('Pipedrive organizations against the Pipedrive sandbox', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let pipedrive: PipedriveTestBed;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startApp(database);
    pipedrive = await startPipedriveTestBed();
  });

  afterAll(async () => {
    await pipedrive?.close();
    await app?.close();
    await database?.drop();
  });

  it('a person’s company is its organization’s name, and a move to another organization follows', async () => {
    const { sandbox, connector } = pipedrive;
    const session = await pipedrive.session();
    const counting = new CountingPort(connector);
    const { run, local } = await syncHarness(app, counting.port, session, 'sandbox-pipedrive-orgs', {
      objects: ['persons'],
    });
    const initech = sandbox.createInCrm('organizations', { name: 'Initech' });
    const globex = sandbox.createInCrm('organizations', { name: 'Globex' });
    const person = sandbox.createInCrm('persons', {
      name: 'Peter Gibbons',
      emails: [{ value: 'peter@initech.example', primary: true }],
      org_id: initech.id,
    });
    sandbox.createInCrm('persons', {
      name: 'Solo Person',
      emails: [{ value: 'solo@example.com', primary: true }],
    });

    const first = await run();
    expect({ status: first.status, error: String(first.error ?? '') }).toEqual({
      status: 'succeeded',
      error: '',
    });
    expect((await local('peter@initech.example'))?.company).toBe('Initech');
    expect((await local('solo@example.com'))?.company).toBeNull();
    expect(counting.calls.getRecords).toBe(1);

    sandbox.editInCrm('persons', person.id as number, { org_id: globex.id });
    counting.reset();
    const moved = await run();
    expect(moved.status).toBe('succeeded');
    expect((await local('peter@initech.example'))?.company).toBe('Globex');
    // The organization is never written through the person.
    expect(counting.calls.upsertBatch).toBe(0);
  });
});
