import type { INestApplication } from '@nestjs/common';
import type { EmailStatusValue } from '@pm/integration-port';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { activityHarness, emailEvent, steppingBudgetClock, TestSessions } from './testing/activity-harness';
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

/** What a declared field should hold after the event (booleans and times compared as the CRM stores them). */
function expectField(actual: unknown, declared: EmailStatusValue, event: Record<string, unknown>): void {
  if (typeof declared === 'object') {
    const wanted = event[declared.fromEvent] as string;
    if (declared.fromEvent === 'occurredAt')
      expect(new Date(String(actual)).getTime()).toBe(Date.parse(wanted));
    else expect(actual).toBe(wanted);
  } else expect(String(actual)).toBe(String(declared));
}

/**
 * E-mail events that change the contact rather than add an activity, and contacts created for events, with each
 * real connector (official SDK over HTTP) against its sandbox, on PostgreSQL.
 */
describe.each([
  ['Salesforce', salesforceBed],
  ['HubSpot', hubSpotBed],
  ['Pipedrive', pipedriveBed],
])('e-mail status and missing contacts in %s', (name, build) => {
  let database: TestDatabase;
  let bed: CrmBed;
  let sessions: TestSessions;
  let app: INestApplication;

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await build();
    sessions = new TestSessions();
    sessions.reconnect(await bed.connect());
    app = await startActivityTestApp({
      databaseUrl: database.url,
      connectors: { [bed.port.provider]: bed.port },
      sessions,
      delivery: { ...NO_WAIT, budgetClock: steppingBudgetClock() },
    });
    await bed.prepareEmailStatusFields(await sessions.getSession());
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  const harness = (tenantId: string, createMissingContacts = false) =>
    activityHarness(app, bed.port, sessions, tenantId, bed.contactObject, { createMissingContacts });

  it('an unsubscribe and a hard bounce set the CRM’s declared contact fields and mark the PenguinMails contacts; a soft bounce and a receipt do not', async () => {
    const declared = bed.port.capabilities().emailStatusFields?.[bed.contactObject] ?? {};
    const uma = bed.createContact('uma@status.example', 'Uma', 'Unsub');
    const hal = bed.createContact('hal@status.example', 'Hal', 'Hard');
    const sam = bed.createContact('sam@status.example', 'Sam', 'Soft');
    const t = await harness(`status-${name.toLowerCase()}`);
    await t.sync();
    const samBefore = bed.contactFields(sam);

    const unsubscribe = emailEvent('unsubscribed', 'uma@status.example', 's1', 1);
    const hard = emailEvent('bounced', 'hal@status.example', 's2', 2, {
      bounceType: 'hard',
      reason: '550 5.1.1 user unknown',
    });
    const soft = emailEvent('bounced', 'sam@status.example', 's3', 3, {
      bounceType: 'soft',
      reason: '452 mailbox full',
    });
    const receipt = emailEvent('delivered', 'sam@status.example', 's3', 4);
    expect((await t.ingest([unsubscribe, hard, soft, receipt])).accepted).toBe(4);
    expect(await t.localContact('uma@status.example')).toMatchObject({ emailStatus: 'unsubscribed' });
    expect(await t.localContact('hal@status.example')).toMatchObject({
      emailStatus: 'bounced',
      emailStatusReason: '550 5.1.1 user unknown',
    });
    expect((await t.localContact('sam@status.example'))?.emailStatus ?? null).toBeNull();

    const outcome = await t.deliver();
    expect(outcome).toMatchObject({ status: 'done', failed: 0, held: 0, skipped: 1 });

    expect(declared.unsubscribed).toBeDefined();
    for (const [field, value] of Object.entries(declared.unsubscribed ?? {}))
      expectField(bed.contactFields(uma)[field], value, unsubscribe);
    for (const [field, value] of Object.entries(declared.bounced ?? {}))
      expectField(bed.contactFields(hal)[field], value, hard);
    // The soft bounce is an activity only: the contact's fields are as they were.
    for (const field of Object.keys(declared.bounced ?? {}))
      expect(bed.contactFields(sam)[field] ?? null).toEqual(samBefore[field] ?? null);

    const deliveries = await t.deliveries();
    expect(deliveries.get(unsubscribe.eventId as string)).toMatchObject({ status: 'delivered', crmId: uma });
    expect(deliveries.get(hard.eventId as string)?.status).toBe('delivered');
    expect(bed.activity(deliveries.get(hard.eventId as string)?.crmId as string)?.contactId).toBe(hal);
    expect(deliveries.get(receipt.eventId as string)).toMatchObject({ status: 'skipped' });
    expect(await t.logMessages()).toEqual(
      expect.arrayContaining([`Contact updated: Email Unsubscribed → ${name}`]),
    );
    if (declared.bounced) expect(await t.logMessages()).toContain(`Contact updated: Email Bounced → ${name}`);

    expect(await t.summary()).toMatchObject({ notApplicable: 1, failed: 0, held: 0, pending: 0 });

    // A retried batch writes nothing again.
    expect(await t.ingest([unsubscribe, hard])).toMatchObject({ accepted: 0, duplicates: 2 });
    expect(await t.deliver()).toMatchObject({ status: 'done', writes: 0 });
  });

  it('with createMissingContacts on, an event creates the contact the CRM lacks (once) and links one it has by e-mail; then logs on it', async () => {
    const t = await harness(`create-${name.toLowerCase()}`, true);
    await t.sync();
    // In PenguinMails only; and in the CRM too but never synced (a sync would link it).
    await t.addLocalContact('nia@new.example', 'Nia', 'New');
    await t.addLocalContact('kai@known.example', 'Kai', 'Known');
    const kai = bed.createContact('kai@known.example', 'Kai', 'Known');
    expect(bed.contactsWith('nia@new.example')).toEqual([]);

    const events = [
      emailEvent('sent', 'nia@new.example', 'c1', 1, { subject: 'Hello Nia' }),
      emailEvent('opened', 'nia@new.example', 'c1', 2),
      emailEvent('sent', 'kai@known.example', 'c2', 3, { subject: 'Hello Kai' }),
    ];
    await t.ingest(events);
    expect(await t.deliver()).toMatchObject({ status: 'done', held: 0, logged: 3, failed: 0 });

    const [nia] = bed.contactsWith('nia@new.example');
    expect(bed.contactsWith('nia@new.example')).toHaveLength(1);
    expect(bed.contactsWith('kai@known.example')).toEqual([kai]);
    const deliveries = await t.deliveries();
    expect(bed.activity(deliveries.get(events[0].eventId as string)?.crmId as string)?.contactId).toBe(nia);
    expect(bed.activity(deliveries.get(events[2].eventId as string)?.crmId as string)?.contactId).toBe(kai);
    expect(await t.allLogMessages()).toContain(`Contact created for an e-mail event → ${name}`);

    // The created contact is linked: a later event, and a sync run, make no second one.
    await t.ingest([emailEvent('replied', 'nia@new.example', 'c1', 9, { snippet: 'Thanks!' })]);
    expect(await t.deliver()).toMatchObject({ status: 'done', logged: 1 });
    await t.sync();
    expect(bed.contactsWith('nia@new.example')).toEqual([nia]);
  });

  it('with createMissingContacts off, the event is held and no contact is created', async () => {
    const t = await harness(`nocreate-${name.toLowerCase()}`, false);
    await t.sync();
    await t.addLocalContact('oli@off.example', 'Oli', 'Off');
    const event = emailEvent('sent', 'oli@off.example', 'o1', 1);
    await t.ingest([event]);
    expect(await t.deliver()).toMatchObject({ status: 'done', held: 1, logged: 0 });
    expect(bed.contactsWith('oli@off.example')).toEqual([]);
    expect((await t.deliveries()).get(event.eventId as string)?.status).toBe('held');
  });
});

/** A HubSpot portal where nobody created PenguinMails' contact properties: HubSpot's refusal is logged, nothing lost. */
describe('e-mail status in a HubSpot portal without the PenguinMails properties', () => {
  let database: TestDatabase;
  let bed: CrmBed;
  let sessions: TestSessions;
  let app: INestApplication;

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await hubSpotBed();
    sessions = new TestSessions();
    sessions.reconnect(await bed.connect());
    app = await startActivityTestApp({
      databaseUrl: database.url,
      connectors: { [bed.port.provider]: bed.port },
      sessions,
      delivery: { ...NO_WAIT, budgetClock: steppingBudgetClock() },
    });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('an unsubscribe fails with HubSpot’s message and is tried again; a hard bounce is still logged as its activity', async () => {
    const uma = bed.createContact('uma@portal.example', 'Uma', 'Unsub');
    const hal = bed.createContact('hal@portal.example', 'Hal', 'Hard');
    const t = await activityHarness(app, bed.port, sessions, 'portal-without', bed.contactObject);
    await t.sync();
    const unsubscribe = emailEvent('unsubscribed', 'uma@portal.example', 'p1', 1);
    const hard = emailEvent('bounced', 'hal@portal.example', 'p2', 2, { bounceType: 'hard', reason: 'gone' });
    await t.ingest([unsubscribe, hard]);

    expect(await t.deliver()).toMatchObject({ status: 'done', logged: 1, failed: 1 });
    const deliveries = await t.deliveries();
    expect(deliveries.get(unsubscribe.eventId as string)).toMatchObject({
      status: 'failed',
      error: 'VALIDATION_FAILED: Property "penguinmails_unsubscribed" does not exist',
    });
    expect(bed.activity(deliveries.get(hard.eventId as string)?.crmId as string)?.contactId).toBe(hal);
    expect(bed.contactFields(uma).penguinmails_unsubscribed).toBeUndefined();
    const lines = await t.logMessages();
    expect(lines).toContain('Activity logged: Email Bounced → HubSpot');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Contact not updated: Email Unsubscribed → HubSpot: Property "penguinmails_unsubscribed" does not exist',
        expect.stringMatching(
          /^Contact not updated: Email Bounced → HubSpot: Property "penguinmails_.*" does not exist$/,
        ),
      ]),
    );

    // Once an admin creates the properties, the next delivery writes the unsubscribe.
    await bed.prepareEmailStatusFields(await sessions.getSession());
    expect(await t.deliver()).toMatchObject({ status: 'done', logged: 1, failed: 0 });
    expect(bed.contactFields(uma).penguinmails_unsubscribed).toBe('true');
    expect((await t.deliveries()).get(unsubscribe.eventId as string)?.status).toBe('delivered');
  });
});
