import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from '@hubspot/api-client';
import { ChangeHintRecord, Company, CrmConnection, RecordLink } from '@pm/domain';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { seedConnection } from '../sync/testing/sync-test-app';
import { TargetedSyncExecutor } from './targeted-sync.executor';
import { HeldReads } from './testing/held-reads';
import { startRealtimeTestApp } from './testing/realtime-test-app';

const TOKEN = `pmcrm_${'k'.repeat(40)}`;
const TENANT = 'rt-hubspot-companies';

/**
 * HubSpot company events end to end: a user's app (the official SDK) creates, renames and deletes a company in the
 * sandbox; its signed `company.*` webhooks reach the receiver, and the targeted sync reads the company back by id
 * and applies it through the company sync, so the PenguinMails company follows within the lag measured on the
 * sandbox's clock, not at the next scheduled run.
 */
describe('real-time sync of HubSpot companies', () => {
  let database: TestDatabase;
  let bed: HubSpotTestBed;
  let app: INestApplication;
  let url: string;
  let connectionId: string;
  let hubspot: Client;
  let reads: HeldReads;
  // Near the real time: HubSpot's signature timestamp comes from the wall clock and must be within five minutes.
  let nowMs = Math.floor(Date.now() / 1000) * 1000;

  const orm = () => app.get<MikroORM>(CRM_ORM).em.fork();
  const companies = () => orm().find(Company, { tenant: TENANT }, { orderBy: { createdAt: 'asc' } });
  const companyHints = () =>
    orm().find(
      ChangeHintRecord,
      { connection: connectionId, object: 'companies' },
      { orderBy: { receivedAt: 'asc' } },
    );
  const deliverAndApply = async (applyAtMs: number) => {
    await bed.sandbox.flushWebhooks();
    nowMs = applyAtMs;
    return app.get(TargetedSyncExecutor).process(connectionId);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startHubSpotTestBed();
    bed.sandbox.clock.freeze(nowMs);
    const session = await bed.session();
    reads = new HeldReads(bed.connector);
    ({ app, url } = await startRealtimeTestApp({
      databaseUrl: database.url,
      connectors: { hubspot: reads.port() },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      realtime: { now: () => new Date(nowMs), debounceMs: 0 },
      webhookSecrets: { hubspot: bed.config.clientSecret },
      platformServiceToken: TOKEN,
    }));
    const connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'hubspot',
      settings: { realtime: true, objects: ['contacts', 'companies'] },
    });
    connectionId = connection.id;
    await orm().nativeUpdate(
      CrmConnection,
      { id: connectionId },
      { crmAccountId: String(bed.sandbox.portalId) },
    );
    bed.sandbox.subscribeWebhooks(`${url}/webhooks/hubspot`);
    hubspot = new Client({ accessToken: session.accessToken, basePath: bed.baseUrl });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('brings a company created and renamed with the SDK into PenguinMails, with the lag measured', async () => {
    const t0 = nowMs;
    const created = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'Initrode', domain: 'initrode.example' },
      associations: [],
    });
    expect(await deliverAndApply(t0 + 700)).toBe('applied');
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Initrode', domain: 'initrode.example' }),
    ]);

    bed.sandbox.clock.set(t0 + 10_000);
    await hubspot.crm.companies.basicApi.update(created.id, { properties: { name: 'Initrode Global' } });
    expect(await deliverAndApply(t0 + 10_000 + 1_300)).toBe('applied');
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Initrode Global', domain: 'initrode.example' }),
    ]);
    expect(
      (await companyHints()).map((hint) => ({
        action: hint.action,
        lagMs: hint.lagMs,
        outcome: hint.outcome,
      })),
    ).toEqual([
      { action: 'created', lagMs: 700, outcome: 'present' },
      { action: 'updated', lagMs: 1_300, outcome: 'present' },
    ]);
  });

  it('ends the link of a company deleted with the SDK and keeps it in PenguinMails (propagateDeletes off)', async () => {
    const [record] = await orm().find(RecordLink, {
      connection: connectionId,
      crmObject: 'companies',
      unlinkedAt: null,
    });
    expect(record).toBeDefined();
    await hubspot.crm.companies.basicApi.archive(record.crmId);
    expect(await deliverAndApply(nowMs + 900)).toBe('applied');

    expect((await companyHints()).at(-1)).toMatchObject({ action: 'deleted', outcome: 'gone' });
    expect(
      await orm().findOne(RecordLink, { connection: connectionId, crmId: record.crmId, unlinkedAt: null }),
    ).toBeNull();
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Initrode Global', deletedAt: null }),
    ]);
  });

  it('answers a company event 202 while a targeted sync of the account is still reading: never waits on it', async () => {
    await hubspot.crm.companies.basicApi.create({ properties: { name: 'Held Inc' }, associations: [] });
    await bed.sandbox.flushWebhooks();
    const held = reads.hold();
    let settled = false;
    const running = app
      .get(TargetedSyncExecutor)
      .process(connectionId)
      .finally(() => (settled = true));
    await held.entered;

    // The sync is inside its read, holding the connection's lock; HubSpot's next request still gets its answer.
    const delivered = bed.sandbox.webhooks.deliveries().length;
    const during = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'During Read Ltd' },
      associations: [],
    });
    await bed.sandbox.flushWebhooks();
    const answers = bed.sandbox.webhooks.deliveries().slice(delivered);
    expect(answers.map((delivery) => delivery.status)).toEqual([202]);
    expect(JSON.parse(answers[0].requestBody)).toEqual([
      expect.objectContaining({ subscriptionType: 'company.creation', objectId: Number(during.id) }),
    ]);
    expect(settled).toBe(false);

    held.release();
    expect(await running).toBe('applied');
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    expect((await companies()).map((company) => company.name)).toEqual(
      expect.arrayContaining(['Held Inc', 'During Read Ltd']),
    );
  });
});
