import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import {
  ActivityDelivery,
  ActivityEvent,
  CrmConnection,
  DEFAULT_CONNECTION_SETTINGS,
  Tenant,
} from '@pm/domain';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

const ROUTE = '/api/v1/tenants/acme/activities';

function sent(n: number, overrides: Record<string, unknown> = {}) {
  return {
    eventId: `evt-sent-${n}`,
    type: 'sent',
    messageId: `<msg-${n}@mail.penguinmails.com>`,
    campaignId: 'cmp_1',
    email: `Person.${n}@Example.com`,
    subject: `Hello ${n}`,
    occurredAt: '2026-12-05T10:00:00Z',
    ...overrides,
  };
}

/** The ingest route as the PenguinMails backend calls it: per-event results, idempotent retries, the batch limit. */
describe('activity ingest API', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let orm: MikroORM;
  let acmeToken: string;
  let globexToken: string;
  let loggingId: string;
  let quietId: string;
  const acme = () => ({ Authorization: `Bearer ${acmeToken}` });

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    const platform = { Authorization: `Bearer ${testApp.platformToken}` };
    await http.put('/api/v1/tenants/acme').set(platform).send({ name: 'Acme' }).expect(200);
    await http.put('/api/v1/tenants/globex').set(platform).send({ name: 'Globex' }).expect(200);
    orm = testApp.app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const tenant = em.getReference(Tenant, 'acme');
    const logging = em.create(CrmConnection, { tenant, provider: 'hubspot', status: 'connected' });
    const quiet = em.create(CrmConnection, {
      tenant,
      provider: 'salesforce',
      status: 'connected',
      settings: { ...DEFAULT_CONNECTION_SETTINGS, activityLogging: false },
    });
    await em.flush();
    loggingId = logging.id;
    quietId = quiet.id;
    const tokens = testApp.app.get(ServiceTokenService);
    await RequestContext.create(orm.em, async () => {
      acmeToken = (await tokens.issue('acme-backend', 'acme')).token;
      globexToken = (await tokens.issue('globex-backend', 'globex')).token;
    });
  });

  afterAll(() => testApp.close());

  const deliveries = (connectionId: string) =>
    orm.em.fork().count(ActivityDelivery, { connection: connectionId });

  it('accepts good events and rejects each bad one by its index with a reason naming the field', async () => {
    const events = [
      sent(1),
      { ...sent(2), type: 'clicked', eventId: 'evt-click-no-url' },
      sent(3, { email: 'not-an-email' }),
      { ...sent(4), type: 'opened', eventId: 'evt-open-4' },
      sent(5, { occurredAt: 'yesterday' }),
      'not an object',
      sent(6, { type: 'bounced' }),
      sent(7, { type: 'bounced', bounceType: 'hard', reason: 'mailbox does not exist' }),
      sent(8, { secret: 'unknown field' }),
      { ...sent(9), type: 'clicked', eventId: 'evt-click-9', url: 'https://penguinmails.com/pricing' },
      sent(10, { type: 'replied', snippet: 'Sounds good, call me' }),
      sent(1),
    ];
    const response = await http.post(ROUTE).set(acme()).send({ events }).expect(207);
    expect(response.body).toMatchObject({ accepted: 5, duplicates: 1, rejected: 6 });
    const byIndex = (index: number) => response.body.results[index];
    expect(response.body.results.map((result: { status: string }) => result.status)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'accepted',
      'rejected',
      'accepted',
      'accepted',
      'duplicate',
    ]);
    expect(byIndex(1)).toMatchObject({
      index: 1,
      eventId: 'evt-click-no-url',
      reason: expect.stringMatching(/url/),
    });
    expect(byIndex(2).reason).toMatch(/email/);
    expect(byIndex(4).reason).toMatch(/occurredAt/);
    expect(byIndex(5)).toMatchObject({ eventId: null, reason: expect.stringMatching(/object/) });
    expect(byIndex(6).reason).toMatch(/bounceType/);
    expect(byIndex(8).reason).toMatch(/secret/);

    const stored = await orm.em
      .fork()
      .find(ActivityEvent, { tenant: 'acme' }, { orderBy: { eventId: 'asc' } });
    expect(stored.map((event) => event.eventId).sort()).toEqual(
      ['evt-click-9', 'evt-open-4', 'evt-sent-1', 'evt-sent-10', 'evt-sent-7'].sort(),
    );
    expect(stored.find((event) => event.eventId === 'evt-sent-1')?.email).toBe('person.1@example.com');
    expect(stored.find((event) => event.eventId === 'evt-click-9')).toMatchObject({
      type: 'clicked',
      url: 'https://penguinmails.com/pricing',
      campaignId: 'cmp_1',
      occurredAt: new Date('2026-12-05T10:00:00Z'),
      snippet: null,
      bounceType: null,
    });
    expect(stored.find((event) => event.eventId === 'evt-sent-7')).toMatchObject({
      bounceType: 'hard',
      reason: 'mailbox does not exist',
    });
    // One pending delivery per new event for the connection that logs activities, none for the one that does not.
    expect(await deliveries(loggingId)).toBe(5);
    expect(await deliveries(quietId)).toBe(0);
  });

  it('rejects an ISO-8601 week or ordinal date, which no clock reads, by its index: never a 500', async () => {
    const events = [sent(30, { occurredAt: '2026-W49-1' }), sent(31), sent(32, { occurredAt: '2026-340' })];
    const response = await http.post(ROUTE).set(acme()).send({ events }).expect(207);
    expect(response.body).toMatchObject({ accepted: 1, rejected: 2 });
    expect(response.body.results[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/occurredAt/),
    });
    expect(response.body.results[2]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/occurredAt/),
    });
    expect(await orm.em.fork().count(ActivityEvent, { tenant: 'acme', eventId: 'evt-sent-30' })).toBe(0);
  });

  it('logs nothing twice when the same batch is retried', async () => {
    const events = [sent(20), sent(21), { ...sent(22), type: 'opened', eventId: 'evt-open-22' }];
    const first = await http.post(ROUTE).set(acme()).send({ events }).expect(207);
    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0, rejected: 0 });
    const before = await deliveries(loggingId);
    const retry = await http.post(ROUTE).set(acme()).send({ events }).expect(207);
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 });
    expect(retry.body.results.map((result: { status: string }) => result.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(await deliveries(loggingId)).toBe(before);
    expect(await orm.em.fork().count(ActivityEvent, { tenant: 'acme', eventId: 'evt-sent-20' })).toBe(1);
  });

  it('takes 1,000 events in one call and refuses 1,001 with a problem+json naming the limit', async () => {
    const thousand = Array.from({ length: 1_000 }, (_, n) =>
      sent(1_000 + n, { subject: `A realistic subject line for message number ${n} of the campaign` }),
    );
    const accepted = await http.post(ROUTE).set(acme()).send({ events: thousand }).expect(207);
    expect(accepted.body).toMatchObject({ accepted: 1_000, rejected: 0 });

    const tooMany = Array.from({ length: 1_001 }, (_, n) => sent(5_000 + n));
    const refused = await http.post(ROUTE).set(acme()).send({ events: tooMany }).expect(413);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({
      status: 413,
      invalidParams: [{ name: 'events', reason: expect.stringMatching(/1000/) }],
    });
    expect(await orm.em.fork().count(ActivityEvent, { tenant: 'acme', eventId: 'evt-sent-5000' })).toBe(0);
  });

  it('names the field when the body has no events array', async () => {
    const response = await http.post(ROUTE).set(acme()).send({ event: [] }).expect(400);
    expect(response.body.invalidParams.map((param: { name: string }) => param.name)).toEqual(
      expect.arrayContaining(['events']),
    );
  });

  it("refuses another tenant's token", async () => {
    await http
      .post(ROUTE)
      .set({ Authorization: `Bearer ${globexToken}` })
      .send({ events: [sent(99)] })
      .expect(403);
    expect(await orm.em.fork().count(ActivityEvent, { eventId: 'evt-sent-99' })).toBe(0);
  });

  it("reports a connection's waiting, held, failed and logged activities for the Sync Activity page", async () => {
    const response = await http
      .get(`/api/v1/tenants/acme/connections/${loggingId}/activities/summary?days=3`)
      .set(acme())
      .expect(200);
    expect(response.body).toMatchObject({
      connectionId: loggingId,
      activityLogging: true,
      pending: await deliveries(loggingId),
      held: 0,
      failed: 0,
      logged: 0,
      notApplicable: 0,
    });
    expect(response.body.days).toHaveLength(3);
    await http
      .get(`/api/v1/tenants/acme/connections/${loggingId}/activities/summary`)
      .set({ Authorization: `Bearer ${globexToken}` })
      .expect(403);
  });
});
