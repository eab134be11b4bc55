import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, SyncRun } from '@pm/domain';
import type { CrmRecord } from '@pm/integration-port';
import type { ContractFixture } from '@pm/integration-port/testing';
import { approveAuthorization, createPipedriveSandbox } from '@pm/sandboxes';
import { PipedriveConnector } from '@pm/connectors/pipedrive';
import { ContactSyncRunner, DefaultFieldMappingSource, decodeCrmRecord } from '@pm/sync-engine';
import { hubSpotContractFixture } from '../../../libs/connectors/hubspot/test/hubspot-test-bed';
import {
  connectSession,
  pipedriveStaging,
  REDIRECT_URI as PIPEDRIVE_REDIRECT_URI,
} from '../../../libs/connectors/pipedrive/test/pipedrive-staging';
import { createContractFixture as salesforceContractFixture } from '../../../libs/connectors/salesforce/test/salesforce-fixture';
import { CountingPort } from '../../../libs/sync-engine/src/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ContactService } from '../contacts/contact.service';
import { CRM_ORM } from '../database/crm-database';
import { toSyncConnection } from './sync-executor';
import {
  MikroOrmCursorStore,
  MikroOrmLinkStore,
  MikroOrmLocalContactStore,
  MikroOrmRetryStore,
  MikroOrmSyncLog,
} from './sync-stores';
import { inRequest, seedConnection, startSyncTestApp } from './testing/sync-test-app';

/** The Pipedrive connector against its sandbox, set up as its own contract test does. */
async function pipedriveFixture(): Promise<ContractFixture> {
  const sandbox = createPipedriveSandbox({ redirectUris: [PIPEDRIVE_REDIRECT_URI], seed: 5 });
  const base = await sandbox.start();
  const port = new PipedriveConnector({
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    oauthBaseUrl: base,
    apiBaseUrl: base,
    requestTimeoutMs: 10_000,
  });
  const session = await connectSession(port, approveAuthorization);
  return {
    port,
    session: async () => session,
    contact: {
      object: 'persons',
      fields: { email: 'email', firstName: 'first_name', lastName: 'last_name' },
    },
    staging: pipedriveStaging(sandbox),
    oauth: { redirectUri: PIPEDRIVE_REDIRECT_URI },
    close: () => sandbox.stop(),
  };
}

const FIXTURES: [string, () => Promise<ContractFixture>][] = [
  ['HubSpot', hubSpotContractFixture],
  ['Salesforce', salesforceContractFixture],
  ['Pipedrive', pipedriveFixture],
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
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: {},
      sessions: {
        getSession: () => Promise.reject(new Error('unused')),
        refreshSession: () => Promise.reject(new Error('unused')),
      },
    });
    fixture = await build();
  });

  afterAll(async () => {
    await fixture?.close?.();
    await app?.close();
    await database?.drop();
  });

  it('initial sync both ways, then incremental both ways, converge; the next run writes nothing', async () => {
    const orm = app.get<MikroORM>(CRM_ORM);
    const counting = new CountingPort(fixture.port);
    const session = await fixture.session();
    const tenantId = `sandbox-${name.toLowerCase()}`;
    const object = fixture.contact.object;
    const entity = await seedConnection(app, {
      tenantId,
      provider: fixture.port.provider,
      settings: { objects: [object] },
    });
    const connection = toSyncConnection(entity);
    const mapping = new DefaultFieldMappingSource().mappingFor(fixture.port.provider, object);
    expect(mapping).toBeDefined();
    const run = async () => {
      const em = orm.em.fork();
      const row = em.create(SyncRun, { tenant: tenantId, connection: connection.id, trigger: 'manual' });
      await em.flush();
      return new ContactSyncRunner({
        port: counting.port,
        sessions: { getSession: async () => session, refreshSession: async () => session },
        links: app.get(MikroOrmLinkStore),
        cursors: app.get(MikroOrmCursorStore),
        locals: app.get(MikroOrmLocalContactStore),
        retries: app.get(MikroOrmRetryStore),
        log: app.get(MikroOrmSyncLog),
        options: { sleep: async () => undefined },
      }).run({ connection, runId: row.id });
    };
    const upsertLocal = (email: string, values: Record<string, string>) =>
      inRequest(app, () =>
        app.get(ContactService).upsert({ actor: 'test', tenantId: null }, tenantId, { email, ...values }),
      );
    const local = async (email: string) => orm.em.fork().findOne(Contact, { tenant: tenantId, email });
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
