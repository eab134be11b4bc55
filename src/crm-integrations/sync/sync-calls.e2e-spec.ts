import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, SyncRun, type ConnectionSettings } from '@pm/domain';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { startPipedriveTestBed, type PipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { ContactSyncRunner } from '@pm/sync-engine';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { toSyncConnection } from './sync-executor';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from './local-contact-store';
import { seedConnection, startSyncTestApp } from './testing/sync-test-app';

/**
 * What a sync costs in CRM requests, counted by the sandbox per route: a first sync spends calls only on pages and
 * batches, and a converged connection's run costs at most 3 requests per object. The engine's clock is stepped past
 * HubSpot's index lag between runs (a scheduled run comes later than that) instead of waiting.
 */
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
  let offsetMs = 0;
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
      clock: () => new Date(Date.now() + offsetMs),
      options: { sleep: async () => undefined },
    }).run({ connection, runId: row.id });
  };
  const addLocal = async (count: number, tag: string) => {
    const em = orm.em.fork();
    for (let i = 0; i < count; i++) {
      em.create(Contact, {
        tenant: tenantId,
        email: `${tag}${i}@calls.example`,
        firstName: 'Calls',
        lastName: `N${i}`,
      });
    }
    await em.flush();
  };
  const later = (ms: number) => {
    offsetMs += ms;
  };
  return { run, addLocal, later };
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

/** HubSpot's search index lag as its connector allows for it (10 s), and a little more. */
const PAST_INDEX_LAG_MS = 11_000;

describe('CRM calls per sync against the sandboxes (the sandbox counts)', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let hubspot: HubSpotTestBed;
  let pipedrive: PipedriveTestBed;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startApp(database);
    hubspot = await startHubSpotTestBed();
    pipedrive = await startPipedriveTestBed();
  });

  afterAll(async () => {
    await hubspot?.close();
    await pipedrive?.close();
    await app?.close();
    await database?.drop();
  });

  it('HubSpot, CRM → PenguinMails: a first read of 1,200 contacts is one search per page and one association read per 1,000 contacts; the no-op after it at most 3 calls', async () => {
    const { sandbox } = hubspot;
    const { run, later } = await syncHarness(
      app,
      hubspot.connector,
      await hubspot.session(),
      'calls-hubspot-in',
      { objects: ['contacts'] },
    );
    const hourAgo = new Date(Date.now() - 3_600_000);
    const contacts = sandbox.seedContacts(1_200, { at: hourAgo });
    const [company] = sandbox.seedCompanies(1, { at: hourAgo });
    // One contact on the first page and one on the last are associated with the company.
    const associated = [contacts[0], contacts[1_150]];
    for (const contact of associated) sandbox.associateInCrm('contacts', contact.id, 'companies', company.id);
    sandbox.counters.reset();

    const first = await run();
    expect(first.status).toBe('succeeded');
    expect(first.counts.from_crm.contacts.created).toBe(1_200);
    const firstRoutes = sandbox.counters.snapshot().byRoute;
    // Six pages of 200, the last known to be the last by the search's total; no one-record follow-up search. The
    // associations of five pages (1,000 contacts) are one read, those of the sixth another; the company's name (the
    // default mapping's value) is read once for the run, though contacts on the first and last pages name it.
    expect(firstRoutes).toEqual({
      'POST /crm/v3/objects/contacts/search': 6,
      'POST /crm/v4/associations/:fromObjectType/:toObjectType/batch/read': 2,
      'POST /crm/v3/objects/companies/batch/read': 1,
    });
    const em = app.get<MikroORM>(CRM_ORM).em.fork();
    const local = await em.find(Contact, {
      tenant: 'calls-hubspot-in',
      email: { $in: associated.map((contact) => contact.properties.email as string) },
    });
    expect(local.map((contact) => contact.company)).toEqual([
      company.properties.name,
      company.properties.name,
    ]);

    later(PAST_INDEX_LAG_MS);
    sandbox.counters.reset();
    const noop = await run();
    expect(noop.status).toBe('succeeded');
    expect(noop.counts.from_crm.contacts).toMatchObject({ created: 0, updated: 0 });
    expect(noop.counts.to_crm.contacts).toMatchObject({ created: 0, updated: 0 });
    expect(sandbox.counters.total()).toBeLessThanOrEqual(3);
  });

  it('HubSpot, PenguinMails → CRM: 500 creates are 5 batch upserts with no e-mail look-up; the echo is read once (no association read), then a no-op costs at most 3 calls', async () => {
    const { sandbox } = hubspot;
    sandbox.reset();
    const { run, addLocal, later } = await syncHarness(
      app,
      hubspot.connector,
      await hubspot.session(),
      'calls-hubspot-out',
      { objects: ['contacts'] },
    );
    await addLocal(500, 'out');
    sandbox.counters.reset();

    const first = await run();
    expect(first.status).toBe('succeeded');
    expect(first.counts.to_crm.contacts.created).toBe(500);
    const routes = sandbox.counters.snapshot().byRoute;
    expect(routes['POST /crm/v3/objects/contacts/batch/upsert']).toBe(5);
    // The complete first read of the (empty) CRM was the look-up: no batch read by e-mail before the creates.
    expect(routes['POST /crm/v3/objects/contacts/batch/read'] ?? 0).toBe(0);
    expect(sandbox.counters.total()).toBeLessThanOrEqual(6);

    later(PAST_INDEX_LAG_MS);
    sandbox.counters.reset();
    const echo = await run();
    expect(echo.status).toBe('succeeded');
    expect(echo.counts.from_crm.contacts).toMatchObject({ created: 0, updated: 0 });
    // The 500 written contacts read back once (3 pages of search); none changed since the writes, so their
    // companies are not read.
    expect(sandbox.counters.snapshot().byRoute).toEqual({ 'POST /crm/v3/objects/contacts/search': 3 });

    later(PAST_INDEX_LAG_MS);
    sandbox.counters.reset();
    const noop = await run();
    expect(noop.status).toBe('succeeded');
    expect(sandbox.counters.total()).toBeLessThanOrEqual(3);
  });

  it('Pipedrive, PenguinMails → CRM: one request per create after a complete first read', async () => {
    const { sandbox } = pipedrive;
    const { run, addLocal } = await syncHarness(
      app,
      pipedrive.connector,
      await pipedrive.session(),
      'calls-pipedrive-out',
      { objects: ['persons'] },
    );
    await addLocal(300, 'pd');
    sandbox.counters.reset();

    const first = await run();
    expect(first.status).toBe('succeeded');
    expect(first.counts.to_crm.persons.created).toBe(300);
    const routes = sandbox.counters.snapshot().byRoute;
    expect(routes['POST /api/v2/persons']).toBe(300);
    expect(routes['GET /api/v2/persons/search'] ?? 0).toBe(0);
    // The 300 creates and the one list call of the (empty) first read.
    expect(sandbox.counters.total()).toBe(301);
  });
});
