import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditLogEntry, Contact, CrmConnection, RealtimeChannel, RecordLink } from '@pm/domain';
import { startPipedriveTestBed, type PipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { seedConnection } from '../sync/testing/sync-test-app';
import { TokenVault } from '../vault/token-vault';
import { TargetedSyncExecutor } from './targeted-sync.executor';
import { HeldReads } from './testing/held-reads';
import { startRealtimeTestApp } from './testing/realtime-test-app';

const TOKEN = `pmcrm_${'p'.repeat(40)}`;
const TENANT = 'rt-pipedrive';

/**
 * Pipedrive's real-time path end to end: turning real-time on registers v2.0 webhooks for persons and
 * organizations through the real connector at the sandbox's /v1/webhooks, with HTTP Basic credentials generated
 * for the connection and sealed at rest; the sandbox then calls the connection's receiver with them, and turning
 * real-time off removes the webhooks again.
 */
describe('real-time sync from Pipedrive webhooks', () => {
  let database: TestDatabase;
  let bed: PipedriveTestBed;
  let app: INestApplication;
  let url: string;
  let connectionId: string;
  let nowMs = Math.floor(Date.now() / 1000) * 1000;
  let reads: HeldReads;

  const orm = () => app.get<MikroORM>(CRM_ORM).em.fork();
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${url}/api/v1/tenants/${TENANT}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const sandboxHooks = async () =>
    (
      (await (await fetch(`${bed.baseUrl}/__sandbox/webhooks`)).json()) as {
        subscriptions: Array<{
          url: string;
          events: string[];
          auth?: { username: string; password: string };
        }>;
      }
    ).subscriptions;
  const receiver = () => `${url}/webhooks/pipedrive/${connectionId}`;
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startPipedriveTestBed();
    const tokens = await bed.signIn();
    const session = await bed.session();
    reads = new HeldReads(bed.connector);
    ({ app, url } = await startRealtimeTestApp({
      databaseUrl: database.url,
      connectors: { pipedrive: reads.port() },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      realtime: { now: () => new Date(nowMs), debounceMs: 0 },
      platformServiceToken: TOKEN,
    }));
    const connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'pipedrive',
      settings: { objects: ['persons'] },
    });
    connectionId = connection.id;
    await orm().nativeUpdate(
      CrmConnection,
      { id: connectionId },
      { crmAccountId: tokens.account.id, instanceUrl: tokens.instanceUrl ?? null },
    );
    await app.get(TokenVault).save(connectionId, tokens);
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('registers webhooks when real-time is turned on, and a person created in Pipedrive reaches PenguinMails', async () => {
    const patched = await api('PATCH', `/connections/${connectionId}/settings`, { realtime: true });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { settings: { realtime: boolean } }).settings.realtime).toBe(true);

    const hooks = await sandboxHooks();
    expect(hooks.map((hook) => [hook.url, hook.events]).sort()).toEqual([
      [receiver(), ['*.organization']],
      [receiver(), ['*.person']],
    ]);
    const auth = hooks[0].auth!;
    expect(auth.password.length).toBeGreaterThanOrEqual(24);
    // Sealed at rest: the row does not hold the password.
    const channel = await orm().findOneOrFail(
      RealtimeChannel,
      { connection: connectionId },
      { populate: ['sealed'] },
    );
    expect(channel.sealed).not.toContain(auth.password);
    expect(channel.webhookIds).toHaveLength(2);
    const audit = await orm().find(AuditLogEntry, {
      targetId: connectionId,
      action: 'connection.settings.updated',
    });
    expect(audit.at(-1)?.after).toMatchObject({ realtime: true });

    // Past every write the sandbox has stamped so far: its store keeps timestamps rising, so an instant it already
    // used would be moved on by a millisecond and the lag would read 899.
    nowMs = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
    bed.sandbox.clock.freeze(nowMs);
    bed.sandbox.createInCrm('persons', {
      name: 'Piper Drive',
      emails: [{ value: 'piper@example.com', primary: true }],
    });
    await bed.sandbox.webhooks.idle();
    expect(bed.sandbox.webhooks.deliveries().at(-1)?.status).toBe(202);
    nowMs += 900;
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    expect(await orm().findOne(Contact, { tenant: TENANT, email: 'piper@example.com' })).toMatchObject({
      firstName: 'Piper',
      lastName: 'Drive',
    });
    const status = await (await api('GET', `/connections/${connectionId}/realtime`)).json();
    expect(status).toEqual({ enabled: true, lagP50Ms: 900, lagP95Ms: 900, eventsLastHour: 1 });
  });

  it('answers wrong credentials and unknown connections with the same 401, revealing nothing', async () => {
    const body = JSON.stringify({
      meta: { version: '2.0', entity: 'person', entity_id: '1', action: 'delete' },
    });
    const post = (target: string, authorization?: string) =>
      fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
    const answers = await Promise.all([
      post(receiver(), basic('pm-someone', 'wrong-password')),
      post(receiver()),
      post(
        `${url}/webhooks/pipedrive/00000000-0000-4000-8000-000000000000`,
        basic('pm-someone', 'wrong-password'),
      ),
      post(`${url}/webhooks/pipedrive/not-a-uuid`, basic('pm-someone', 'wrong-password')),
    ]);
    const bodies = await Promise.all(
      answers.map(async (answer) => ({
        status: answer.status,
        body: (await answer.json()) as { detail: string },
      })),
    );
    for (const answer of bodies) {
      expect(answer.status).toBe(401);
      expect(answer.body.detail).toBe(bodies[0].body.detail);
    }
    expect(answers[0].headers.get('content-type')).toContain('application/problem+json');
  });

  it("a merge in Pipedrive ends the merged person's link and keeps the remaining one", async () => {
    const keep = bed.sandbox.createInCrm('persons', {
      name: 'Kept Person',
      emails: [{ value: 'kept@example.com', primary: true }],
    });
    const gone = bed.sandbox.createInCrm('persons', {
      name: 'Gone Person',
      emails: [{ value: 'gone@example.com', primary: true }],
    });
    await bed.sandbox.webhooks.idle();
    nowMs += 500;
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    const link = (crmId: string) =>
      orm().findOne(RecordLink, { connection: connectionId, crmId, unlinkedAt: null });
    expect(await link(String(gone.id))).not.toBeNull();

    bed.sandbox.mergeInCrm('persons', gone.id as number, keep.id as number);
    await bed.sandbox.webhooks.idle();
    nowMs += 500;
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    expect(await link(String(gone.id))).toBeNull();
    expect(await link(String(keep.id))).not.toBeNull();
  });

  it('answers 202 while a targeted sync of the same connection is still reading: the receiver never waits on it', async () => {
    bed.sandbox.createInCrm('persons', {
      name: 'Held Read',
      emails: [{ value: 'held@example.com', primary: true }],
    });
    await bed.sandbox.webhooks.idle();
    const held = reads.hold();
    let settled = false;
    const running = app
      .get(TargetedSyncExecutor)
      .process(connectionId)
      .finally(() => (settled = true));
    await held.entered;

    // The sync is inside its read, holding the connection's lock; a new event still gets its answer.
    const delivered = bed.sandbox.webhooks.deliveries().length;
    const second = bed.sandbox.createInCrm('persons', {
      name: 'During Read',
      emails: [{ value: 'during@example.com', primary: true }],
    });
    await bed.sandbox.webhooks.idle();
    const answers = bed.sandbox.webhooks.deliveries().slice(delivered);
    expect(answers.map((delivery) => delivery.status)).toEqual([202]);
    expect(JSON.parse(answers[0].requestBody)).toMatchObject({ meta: { entity_id: String(second.id) } });
    expect(settled).toBe(false);
    expect(await orm().findOne(Contact, { tenant: TENANT, email: 'held@example.com' })).toBeNull();

    held.release();
    expect(await running).toBe('applied');
    expect(await orm().findOne(Contact, { tenant: TENANT, email: 'held@example.com' })).not.toBeNull();
    // The hint stored during the read waits for the next targeted sync, which applies it.
    expect(await app.get(TargetedSyncExecutor).process(connectionId)).toBe('applied');
    expect(await orm().findOne(Contact, { tenant: TENANT, email: 'during@example.com' })).not.toBeNull();
  });

  it('removes the webhooks when real-time is turned off', async () => {
    const patched = await api('PATCH', `/connections/${connectionId}/settings`, { realtime: false });
    expect(patched.status).toBe(200);
    expect(await sandboxHooks()).toEqual([]);
    const channel = await orm().findOneOrFail(RealtimeChannel, { connection: connectionId });
    expect(channel.webhookIds).toEqual([]);
  });
});
