import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { ChangeHintRecord, Contact, CrmConnection, RecordLink, SyncRun } from '@pm/domain';
import { ContactSyncRunner } from '@pm/sync-engine';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { hubSpotSignatureV3 } from '@pm/sandboxes';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import {
  ConnectionRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../repositories';
import { LocalContactStoreAdapter } from '../sync/local-contact-store';
import { toSyncConnection } from '../sync/sync-executor';
import { seedConnection } from '../sync/testing/sync-test-app';
import { TargetedSyncExecutor } from './targeted-sync.executor';
import { startRealtimeTestApp } from './testing/realtime-test-app';

const TOKEN = `pmcrm_${'r'.repeat(40)}`;
const TENANT = 'rt-hubspot';

/**
 * HubSpot's real-time path end to end: the sandbox sends its signed v3 webhooks to the service's receiver over
 * HTTP, and the targeted sync reads the named records back through the real connector (the official SDK) and
 * applies them. Time is the test's: the sandbox's clock stamps the change, the service's clock its application, so
 * the measured lag is exact. The test runs the queued targeted sync itself once the receiver has answered.
 */
describe('real-time sync from HubSpot webhooks', () => {
  let database: TestDatabase;
  let bed: HubSpotTestBed;
  let app: INestApplication;
  let url: string;
  let connectionId: string;
  // Near the real time: HubSpot's signature timestamp comes from the wall clock and must be within five minutes.
  let nowMs = Math.floor(Date.now() / 1000) * 1000;
  const clock = () => new Date(nowMs);

  const start = async () => {
    const session = await bed.session();
    ({ app, url } = await startRealtimeTestApp({
      databaseUrl: database.url,
      connectors: { hubspot: bed.connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      realtime: { now: clock, debounceMs: 0 },
      webhookSecrets: { hubspot: bed.config.clientSecret },
      platformServiceToken: TOKEN,
    }));
  };
  const orm = () => app.get<MikroORM>(CRM_ORM).em.fork();
  const local = (email: string) => orm().findOne(Contact, { tenant: TENANT, email });
  const hints = () =>
    orm().find(ChangeHintRecord, { connection: connectionId }, { orderBy: { receivedAt: 'asc' } });
  /** Delivers what the sandbox queued, then runs the targeted sync the receiver queued. */
  const deliverAndApply = async (applyAtMs: number) => {
    await bed.sandbox.flushWebhooks();
    nowMs = applyAtMs;
    return app.get(TargetedSyncExecutor).process(connectionId);
  };
  const scheduledSync = async () => {
    const session = await bed.session();
    const em = orm();
    const run = em.create(SyncRun, { tenant: TENANT, connection: connectionId, trigger: 'scheduled' });
    await em.flush();
    const connection = await app.get(ConnectionRepository).findById(connectionId);
    return new ContactSyncRunner({
      port: bed.connector,
      sessions: { getSession: async () => session, refreshSession: async () => session },
      links: app.get(RecordLinkRepository),
      cursors: app.get(SyncCursorRepository),
      locals: app.get(LocalContactStoreAdapter),
      retries: app.get(SyncRetryRepository),
      log: app.get(SyncLogRepository),
      clock,
      options: { sleep: async () => undefined },
    }).run({ connection: toSyncConnection(connection!), runId: run.id });
  };
  const realtimeStatus = async () => {
    const response = await fetch(`${url}/api/v1/tenants/${TENANT}/connections/${connectionId}/realtime`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return response.json() as Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startHubSpotTestBed();
    bed.sandbox.clock.freeze(nowMs);
    await start();
    const connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'hubspot',
      settings: { realtime: true, objects: ['contacts'] },
    });
    connectionId = connection.id;
    await orm().nativeUpdate(
      CrmConnection,
      { id: connectionId },
      { crmAccountId: String(bed.sandbox.portalId) },
    );
    bed.sandbox.subscribeWebhooks(`${url}/webhooks/hubspot`);
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('brings a contact created and then edited in HubSpot into PenguinMails, and reports the measured lag', async () => {
    const t0 = nowMs;
    const created = bed.sandbox.createInCrm('contacts', {
      email: 'web.hook@example.com',
      firstname: 'Wendy',
      lastname: 'Hook',
    });
    expect(await deliverAndApply(t0 + 800)).toBe('applied');
    expect(await local('web.hook@example.com')).toMatchObject({ firstName: 'Wendy', lastName: 'Hook' });

    bed.sandbox.clock.set(t0 + 10_000);
    bed.sandbox.editInCrm('contacts', created.id, { firstname: 'Wanda' });
    expect(await deliverAndApply(t0 + 10_000 + 1_400)).toBe('applied');
    expect(await local('web.hook@example.com')).toMatchObject({ firstName: 'Wanda', lastName: 'Hook' });

    const applied = (await hints()).map((hint) => ({
      action: hint.action,
      lagMs: hint.lagMs,
      outcome: hint.outcome,
    }));
    expect(applied).toEqual([
      { action: 'created', lagMs: 800, outcome: 'present' },
      { action: 'updated', lagMs: 1_400, outcome: 'present' },
    ]);
    expect(await realtimeStatus()).toEqual({
      enabled: true,
      lagP50Ms: 1_100,
      lagP95Ms: 1_370,
      eventsLastHour: 2,
    });
  });

  it('answers a forged, unsigned or stale request 401 problem+json and queues nothing', async () => {
    const before = (await hints()).length;
    const body = JSON.stringify([
      {
        eventId: 999,
        portalId: bed.sandbox.portalId,
        subscriptionType: 'contact.deletion',
        objectId: 1,
        occurredAt: nowMs,
      },
    ]);
    const send = (headers: Record<string, string>) =>
      fetch(`${url}/webhooks/hubspot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const timestamp = String(nowMs);
    const forged = await send({
      'x-hubspot-signature-v3': hubSpotSignatureV3(
        'not-the-secret',
        'POST',
        `${url}/webhooks/hubspot`,
        body,
        timestamp,
      ),
      'x-hubspot-request-timestamp': timestamp,
    });
    const unsigned = await send({});
    const staleAt = String(nowMs - 6 * 60_000);
    const stale = await send({
      'x-hubspot-signature-v3': hubSpotSignatureV3(
        bed.config.clientSecret,
        'POST',
        `${url}/webhooks/hubspot`,
        body,
        staleAt,
      ),
      'x-hubspot-request-timestamp': staleAt,
    });
    for (const response of [forged, unsigned, stale]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await forged.json()).toMatchObject({ status: 401 });
    expect(await hints()).toHaveLength(before);
  });

  it('leaves both sides right when events are duplicated and reordered', async () => {
    const record = bed.sandbox.createInCrm('contacts', { email: 'dup.order@example.com', firstname: 'Dee' });
    await deliverAndApply(nowMs + 500);
    await fetch(`${bed.baseUrl}/__sandbox/webhooks/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicateRate: 1, reorderWindow: 3 }),
    });
    bed.sandbox.clock.set(nowMs + 1_000);
    bed.sandbox.editInCrm('contacts', record.id, { firstname: 'Dora' });
    await bed.sandbox.flushWebhooks();
    bed.sandbox.clock.set(nowMs + 2_000);
    bed.sandbox.editInCrm('contacts', record.id, { lastname: 'Order' });
    await bed.sandbox.flushWebhooks();
    bed.sandbox.clock.set(nowMs + 3_000);
    bed.sandbox.editInCrm('contacts', record.id, { firstname: 'Dana' });
    const faults = (await (await fetch(`${bed.baseUrl}/__sandbox/webhooks/faults`)).json()) as {
      counts: { duplicated: number };
    };
    expect(await deliverAndApply(nowMs + 3_500)).toBe('applied');
    await fetch(`${bed.baseUrl}/__sandbox/webhooks/faults`, { method: 'DELETE' });

    expect(faults.counts.duplicated).toBeGreaterThanOrEqual(3);
    // Each event stored once, however often it came; the record read once, in its latest state.
    const forRecord = (await hints()).filter((hint) => hint.crmId === record.id);
    expect(new Set(forRecord.map((hint) => hint.eventId)).size).toBe(forRecord.length);
    expect(forRecord).toHaveLength(4);
    expect(await local('dup.order@example.com')).toMatchObject({ firstName: 'Dana', lastName: 'Order' });
  });

  it('a lost event changes nothing until the next scheduled sync, which brings the change', async () => {
    const record = bed.sandbox.createInCrm('contacts', { email: 'lost.event@example.com', firstname: 'Lou' });
    await deliverAndApply(nowMs + 500);
    await fetch(`${bed.baseUrl}/__sandbox/webhooks/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lossRate: 1 }),
    });
    bed.sandbox.clock.set(nowMs + 1_000);
    bed.sandbox.editInCrm('contacts', record.id, { firstname: 'Lola' });
    expect(await deliverAndApply(nowMs + 1_500)).toBe('nothing');
    await fetch(`${bed.baseUrl}/__sandbox/webhooks/faults`, { method: 'DELETE' });
    expect(await local('lost.event@example.com')).toMatchObject({ firstName: 'Lou' });
    // The scheduled sync is the safety net: it reads by modification time, whatever the webhooks did.
    expect((await scheduledSync()).status).toBe('succeeded');
    expect(await local('lost.event@example.com')).toMatchObject({ firstName: 'Lola' });
  });

  it('a deletion hint for a record HubSpot still holds changes nothing; a real deletion unlinks', async () => {
    const record = bed.sandbox.createInCrm('contacts', {
      email: 'still.here@example.com',
      firstname: 'Stan',
    });
    await deliverAndApply(nowMs + 500);
    const linked = () =>
      orm().findOne(RecordLink, { connection: connectionId, crmId: record.id, unlinkedAt: null });
    expect(await linked()).not.toBeNull();

    // A correctly signed deletion event for a record that exists: a hint, not truth.
    const body = JSON.stringify([
      {
        eventId: 4242,
        portalId: bed.sandbox.portalId,
        subscriptionType: 'contact.deletion',
        objectId: Number(record.id),
        occurredAt: nowMs,
      },
    ]);
    const timestamp = String(Date.now());
    const response = await fetch(`${url}/webhooks/hubspot`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': hubSpotSignatureV3(
          bed.config.clientSecret,
          'POST',
          `${url}/webhooks/hubspot`,
          body,
          timestamp,
        ),
        'x-hubspot-request-timestamp': timestamp,
      },
      body,
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1 });
    expect(await deliverAndApply(nowMs + 200)).toBe('applied');
    expect(await linked()).not.toBeNull();
    expect(await local('still.here@example.com')).toMatchObject({ firstName: 'Stan', deletedAt: null });

    bed.sandbox.deleteInCrm('contacts', record.id);
    expect(await deliverAndApply(nowMs + 300)).toBe('applied');
    expect(await linked()).toBeNull();
    // Without propagateDeletes the contact stays in PenguinMails.
    expect(await local('still.here@example.com')).toMatchObject({ deletedAt: null });
  });

  it('a merge in HubSpot updates the remaining contact and ends the link of the merged one', async () => {
    const primary = bed.sandbox.createInCrm('contacts', { email: 'keep@example.com', firstname: 'Kim' });
    const merged = bed.sandbox.createInCrm('contacts', {
      email: 'gone@example.com',
      firstname: 'Gil',
      lastname: 'Merged',
    });
    await deliverAndApply(nowMs + 500);
    const link = (crmId: string) =>
      orm().findOne(RecordLink, { connection: connectionId, crmId, unlinkedAt: null });
    expect(await link(merged.id)).not.toBeNull();

    bed.sandbox.clock.set(nowMs + 1_000);
    bed.sandbox.mergeInCrm('contacts', primary.id, merged.id);
    expect(await deliverAndApply(nowMs + 1_600)).toBe('applied');

    const mergeHints = (await hints()).filter((hint) => hint.action === 'merged');
    expect(mergeHints.map((hint) => [hint.crmId, hint.outcome]).sort()).toEqual(
      [
        [merged.id, 'gone'],
        [primary.id, 'present'],
      ].sort(),
    );
    expect(await link(merged.id)).toBeNull();
    expect(await link(primary.id)).not.toBeNull();
    // The last name the primary lacked moved to it in HubSpot, and from there to PenguinMails.
    expect(await local('keep@example.com')).toMatchObject({ firstName: 'Kim', lastName: 'Merged' });
  });

  it('loses no hint across a receiver restart: hints stored before it are applied after it', async () => {
    const record = bed.sandbox.createInCrm('contacts', { email: 'restart@example.com', firstname: 'Rae' });
    await bed.sandbox.flushWebhooks();
    const waiting = (await hints()).filter((hint) => hint.crmId === record.id && hint.appliedAt === null);
    expect(waiting).toHaveLength(1);
    await app.close();
    await start();
    expect(await local('restart@example.com')).toBeNull();
    nowMs += 700;
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    expect(await local('restart@example.com')).toMatchObject({ firstName: 'Rae' });
  });
});
