import type { INestApplication } from '@nestjs/common';
import { deliveryBatchSize } from './activity-delivery.service';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import {
  activityHarness,
  emailEvent,
  hookedPort,
  steppingBudgetClock,
  TestSessions,
} from './testing/activity-harness';
import { startActivityTestApp } from './testing/activity-test-app';
import {
  hubSpotBed,
  pipedriveBed,
  salesforceBed,
  type CrmBed,
} from '../../../test/support/activity-crm-beds';

const NO_WAIT = {
  sleep: async () => undefined,
  retryPolicy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxWaitMs: 120_000 },
};

interface Context {
  database: TestDatabase;
  bed: CrmBed;
  sessions: TestSessions;
  app: INestApplication;
  hooks: { afterLogActivities?: () => void };
}

async function start(build: () => Promise<CrmBed>): Promise<Context> {
  const database = await createTestDatabase();
  const bed = await build();
  const sessions = new TestSessions();
  sessions.reconnect(await bed.connect());
  const hooks: Context['hooks'] = {};
  const app = await startActivityTestApp({
    databaseUrl: database.url,
    connectors: { [bed.port.provider]: hookedPort(bed.port, hooks) },
    sessions,
    // The budget's windows pass on this clock, not the wall clock: a storm's window waits cost no real time.
    delivery: { ...NO_WAIT, budgetClock: steppingBudgetClock() },
  });
  return { database, bed, sessions, app, hooks };
}

async function stop(context: Partial<Context>): Promise<void> {
  await context.app?.close();
  await context.bed?.close();
  await context.database?.drop();
}

const harness = (context: Context, tenantId: string) =>
  activityHarness(
    context.app,
    hookedPort(context.bed.port, {}),
    context.sessions,
    tenantId,
    context.bed.contactObject,
  );

/**
 * Activity delivery with each real connector (official SDK over HTTP) against its sandbox, on PostgreSQL: the
 * contacts are linked by a real contact sync run, events come in through the ingest service.
 */
describe.each([
  ['Salesforce', salesforceBed],
  ['HubSpot', hubSpotBed],
  ['Pipedrive', pipedriveBed],
])('activity delivery into %s', (name, build) => {
  let context: Context;

  beforeAll(async () => {
    context = await start(build);
  });

  afterAll(() => stop(context));

  it('a mixed batch becomes the right records on the right contacts; opens and clicks roll into one record per message; a retry adds nothing', async () => {
    const { bed } = context;
    const ada = bed.createContact('ada@acme.example', 'Ada', 'Lovelace');
    const bob = bed.createContact('bob@acme.example', 'Bob', 'Builder');
    const t = await harness(context, `mixed-${name.toLowerCase()}`);
    await t.sync();
    await bed.prepareEmailStatusFields(await context.sessions.getSession());
    const before = new Set(bed.activityIds());
    // The CRM's declared bounce field (Pipedrive has none): one contact write more for the hard bounce.
    const bounceWrites = bed.port.capabilities().emailStatusFields?.[bed.contactObject]?.bounced ? 1 : 0;

    const batch = [
      emailEvent('sent', 'ada@acme.example', 'm1', 0, { subject: 'Intro' }),
      emailEvent('delivered', 'ada@acme.example', 'm1', 1),
      emailEvent('opened', 'ada@acme.example', 'm1', 2),
      emailEvent('opened', 'ada@acme.example', 'm1', 3),
      emailEvent('clicked', 'ADA@acme.example', 'm1', 4, { url: 'https://penguinmails.com/pricing' }),
      emailEvent('replied', 'bob@acme.example', 'm2', 5, {
        subject: 'Re: Intro',
        snippet: 'Sounds good, call me',
      }),
      emailEvent('bounced', 'bob@acme.example', 'm3', 6, {
        bounceType: 'hard',
        reason: 'mailbox unavailable',
      }),
      emailEvent('unsubscribed', 'ada@acme.example', 'm1', 7),
    ];
    const ids = batch.map((event) => event.eventId as string);
    expect((await t.ingest(batch)).accepted).toBe(8);
    const first = await t.deliver();
    // Four activity records, the unsubscribe written on Ada, the hard bounce on Bob where the CRM has a field;
    // the delivery receipt has no place in any of the three CRMs.
    expect(first).toMatchObject({
      status: 'done',
      logged: 7,
      skipped: 1,
      held: 0,
      failed: 0,
      writes: 5 + bounceWrites,
    });

    const created = bed.activityIds().filter((id) => !before.has(id));
    expect(created).toHaveLength(4);
    const delivered = await t.deliveries();
    const recordOf = (eventId: string) => delivered.get(eventId)?.crmId as string;
    const sent = bed.activity(recordOf(ids[0]));
    expect(sent).toMatchObject({ contactId: ada, subject: expect.stringContaining('Intro') });
    // The opens and the click are one record on Ada, with the counts and the link.
    expect(new Set([recordOf(ids[2]), recordOf(ids[3]), recordOf(ids[4])]).size).toBe(1);
    const rollUp = bed.activity(recordOf(ids[2]));
    expect(rollUp?.contactId).toBe(ada);
    expect(rollUp?.text).toContain('Opened 2 times, clicked 1 time');
    expect(rollUp?.text).toContain('https://penguinmails.com/pricing');
    expect(bed.activity(recordOf(ids[5]))).toMatchObject({
      contactId: bob,
      text: expect.stringContaining('Sounds good, call me'),
    });
    expect(bed.activity(recordOf(ids[6]))).toMatchObject({
      contactId: bob,
      text: expect.stringContaining('Hard bounce: mailbox unavailable'),
    });
    expect(delivered.get(ids[1])?.status).toBe('skipped');
    expect(delivered.get(ids[1])?.error).toBe(
      `Not applicable in ${name}: it has no place for this event; kept in PenguinMails`,
    );
    expect(delivered.get(ids[7])).toMatchObject({ status: 'delivered', crmId: ada });
    expect(await t.logMessages()).toEqual(
      expect.arrayContaining([
        `Activity logged: Email Sent → ${name}`,
        `Activity logged: Email Clicked → ${name}`,
      ]),
    );

    // Later opens and clicks update the same record.
    const later = [
      emailEvent('opened', 'ada@acme.example', 'm1', 30),
      emailEvent('clicked', 'ada@acme.example', 'm1', 31, { url: 'https://penguinmails.com/signup' }),
    ];
    await t.ingest(later);
    expect(await t.deliver()).toMatchObject({ status: 'done', logged: 2, writes: 1 });
    expect(bed.activityIds().filter((id) => !before.has(id))).toHaveLength(4);
    const afterLater = await t.deliveries();
    expect(afterLater.get(later[0].eventId as string)?.crmId).toBe(recordOf(ids[2]));
    const updated = bed.activity(recordOf(ids[2]));
    expect(updated?.text).toContain('Opened 3 times, clicked 2 times');
    expect(updated?.text).toContain('https://penguinmails.com/signup');
    expect(await t.logMessages()).toContain(`Activity logged: Email Clicked → ${name}`);

    // The backend retries the first batch: every event is a duplicate and nothing reaches the CRM.
    expect(await t.ingest(batch)).toMatchObject({ accepted: 0, duplicates: 8 });
    expect(await t.deliver()).toMatchObject({ status: 'done', writes: 0 });
    expect(bed.activityIds().filter((id) => !before.has(id))).toHaveLength(4);
  });

  it('holds an activity whose contact is not in the CRM yet, and delivers it once a sync links the contact', async () => {
    const { bed } = context;
    const t = await harness(context, `held-${name.toLowerCase()}`);
    await t.sync();
    const event = emailEvent('sent', 'carol@later.example', 'm-held', 10, { subject: 'Welcome' });
    await t.ingest([event]);
    expect(await t.deliver()).toMatchObject({ status: 'done', held: 1, logged: 0 });
    expect((await t.deliveries()).get(event.eventId as string)?.status).toBe('held');

    const carol = bed.createContact('carol@later.example', 'Carol', 'Later');
    await t.sync();
    expect(await t.deliver()).toMatchObject({ status: 'done', held: 0, logged: 1 });
    const delivery = (await t.deliveries()).get(event.eventId as string);
    expect(delivery?.status).toBe('delivered');
    expect(bed.activity(delivery?.crmId as string)).toMatchObject({
      contactId: carol,
      subject: expect.stringContaining('Welcome'),
    });
  });
});

/** Each event id must be exactly one record, and its delivery must point at that record. */
function expectEachEventOnce(
  deliveries: Map<string, { status: string; crmId: string | null }>,
  eventIds: string[],
  bed: CrmBed,
  before: Set<string>,
): void {
  const created = bed.activityIds().filter((id) => !before.has(id));
  expect(created).toHaveLength(eventIds.length);
  const createdSet = new Set(created);
  const crmIds = eventIds.map((eventId) => {
    const delivery = deliveries.get(eventId);
    expect({ eventId, status: delivery?.status }).toEqual({ eventId, status: 'delivered' });
    expect(createdSet.has(delivery?.crmId as string)).toBe(true);
    return delivery?.crmId;
  });
  expect(new Set(crmIds).size).toBe(eventIds.length);
}

async function linkedSendsIn(context: Context, tenantId: string, count: number, contacts: number) {
  const { bed } = context;
  for (let n = 0; n < contacts; n++) bed.createContact(`${tenantId}.${n}@acme.example`, 'Pat', `No${n}`);
  const t = await harness(context, tenantId);
  await t.sync();
  const events = Array.from({ length: count }, (_, n) =>
    emailEvent('sent', `${tenantId}.${n % contacts}@acme.example`, `${tenantId}-m${n}`, n % 60),
  );
  for (let start = 0; start < events.length; start += 1_000) {
    expect((await t.ingest(events.slice(start, start + 1_000))).rejected).toBe(0);
  }
  return { t, eventIds: events.map((event) => event.eventId as string) };
}

/** The call counts of delivering 1,000 sends: one batch call per batch of the CRM's limit. */
describe.each([
  ['Salesforce', salesforceBed, 5],
  ['HubSpot', hubSpotBed, 10],
])('activity delivery into %s in batches', (name, build, createCalls) => {
  let context: Context;

  beforeAll(async () => {
    context = await start(build);
  });

  afterAll(() => stop(context));

  it(`1,000 sends go to ${name} in ${createCalls} batch calls`, async () => {
    const { bed } = context;
    const { t, eventIds } = await linkedSendsIn(context, `batching-${name.toLowerCase()}`, 1_000, 10);
    const before = new Set(bed.activityIds());
    bed.sandbox.counters.reset();
    expect(await t.deliver()).toMatchObject({ status: 'done', logged: 1_000, writes: 1_000 });
    expect(bed.sandbox.counters.count(bed.createRoute)).toBe(createCalls);
    expectEachEventOnce(await t.deliveries(), eventIds, bed, before);
  });
});

/**
 * Half again a delivery batch of sends (the revocation comes after the first batch). The storm outlasts the first delivery's attempts (3): one 429 per attempt where a batch is one request, up to
 * `maxConcurrency` per attempt where Pipedrive writes record by record.
 */
describe.each([
  ['Salesforce', salesforceBed, 8, 300],
  ['HubSpot', hubSpotBed, 8, 150],
  ['Pipedrive', pipedriveBed, 30, 60],
])('activity delivery into %s through trouble', (name, build, stormSize, sends) => {
  let context: Context;

  beforeAll(async () => {
    context = await start(build);
  });

  afterAll(() => stop(context));

  const linkedSends = (tenantId: string, count: number, contacts: number) =>
    linkedSendsIn(context, tenantId, count, contacts);

  it('a 429 storm delays delivery; every event lands once', async () => {
    const { bed } = context;
    const { t, eventIds } = await linkedSends(`storm-${name.toLowerCase()}`, sends, 5);
    const before = new Set(bed.activityIds());
    bed.sandbox.faults.rateLimitStorm(stormSize, 1, bed.createMatch);
    const outcomes: string[] = [];
    for (let pass = 0; pass < 12 && outcomes.at(-1) !== 'done'; pass++)
      outcomes.push((await t.deliver()).status);
    expect(outcomes[0]).toBe('interrupted');
    expect(outcomes.at(-1)).toBe('done');
    expectEachEventOnce(await t.deliveries(), eventIds, bed, before);
    expect(await t.deliver()).toMatchObject({ status: 'done', writes: 0 });
  });

  it('a connection revoked mid-delivery keeps the rest waiting; after reconnecting every event lands once', async () => {
    const { bed, sessions, hooks } = context;
    const { t, eventIds } = await linkedSends(`revoked-${name.toLowerCase()}`, sends, 5);
    const before = new Set(bed.activityIds());
    const firstBatch = deliveryBatchSize(bed.port.capabilities());
    hooks.afterLogActivities = () => {
      hooks.afterLogActivities = undefined;
      bed.sandbox.oauth.revokeAll();
      sessions.revoke();
    };
    const revoked = await t.deliver();
    expect(revoked).toMatchObject({ status: 'interrupted', needsReconnect: true, logged: firstBatch });
    const waiting = [...(await t.deliveries()).values()].filter((delivery) => delivery.status === 'pending');
    expect(waiting).toHaveLength(sends - firstBatch);

    sessions.reconnect(await bed.connect());
    expect(await t.deliver()).toMatchObject({ status: 'done', logged: sends - firstBatch });
    expectEachEventOnce(await t.deliveries(), eventIds, bed, before);
  });
});
