import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import { AuditLogEntry, WebhookEndpoint } from '@pm/domain';
import type { SyncConnection } from '@pm/sync-engine';
import { API_CLOCK, CRM_ORM, ServiceTokenService, type ApiClock } from '../../src/crm-integrations';
import { WebhookDeliveryService } from '../../src/crm-integrations/webhooks';
import { seedSyncConnection, startFeatureApp, syncOnce } from '../support/crm-change-bed';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** The verifier a receiver writes from the README's "To verify a delivery" steps (its clock passed in). */
function verifyPenguinMailsSignature(
  header: string,
  rawBody: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = header.split(',').map((part) => part.split('='));
  const t = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key]) => key === 'v1').map(([, value]) => value);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver that records what it gets; "down" drops the connection without answering. */
class Receiver {
  readonly received: Received[] = [];
  up = true;
  private waiting: ((received: Received) => void)[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (!this.up) {
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(received);
        res.writeHead(204).end();
        this.waiting.shift()?.(received);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/crm`;
  }

  /** Resolves with the next request to arrive (the worker test waits on the event, not on time). */
  next(): Promise<Received> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  last(): Received {
    return this.received.at(-1)!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

describe('outbound webhooks API', () => {
  const platformToken = `platform-${randomBytes(16).toString('hex')}`;
  let database: TestDatabase;
  let app: INestApplication;
  let bed: HubSpotTestBed;
  let connection: SyncConnection;
  let receiver: Receiver;
  let acmeToken: string;
  let globexToken: string;
  let secret: string;
  let clock: ApiClock;
  let realNow: () => Date;
  let offsetMs = 0;
  const acme = () => ({ Authorization: `Bearer ${acmeToken}` });
  const http = () => request(app.getHttpServer());
  const now = () => clock.now();

  /** A change made in the HubSpot sandbox, synced by the engine into the feed. */
  const crmChange = async (email: string, firstname: string) => {
    bed.sandbox.createInCrm('contacts', { email, firstname });
    await syncOnce(app, bed.connector, await bed.session(), connection);
  };
  /** What the pg-boss job does, run now (the app has no workers: the test triggers the job). */
  const runJob = () => app.get(WebhookDeliveryService).run('acme');
  const moveClock = (ms: number) => {
    offsetMs += ms;
  };
  const deliveries = async (query: Record<string, string> = {}) =>
    (await http().get('/api/v1/tenants/acme/webhook/deliveries').query(query).set(acme()).expect(200)).body
      .data as {
      id: string;
      status: string;
      attempts: number;
      lastError: string | null;
      nextAttemptAt: string | null;
    }[];

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startFeatureApp(database.url, platformToken);
    clock = app.get<ApiClock>(API_CLOCK);
    realNow = clock.now;
    clock.now = () => new Date(realNow().getTime() + offsetMs);
    bed = await startHubSpotTestBed();
    receiver = new Receiver();
    await receiver.start();
    connection = await seedSyncConnection(app, 'acme', 'hubspot');
    await seedSyncConnection(app, 'globex', 'hubspot');
    const tokens = app.get(ServiceTokenService);
    await RequestContext.create(app.get<MikroORM>(CRM_ORM).em, async () => {
      acmeToken = (await tokens.issue('acme-backend', 'acme')).token;
      globexToken = (await tokens.issue('globex-backend', 'globex')).token;
    });
  });

  afterAll(async () => {
    if (clock) clock.now = realNow;
    await receiver?.close();
    await bed?.close();
    await app?.close();
    await database?.drop();
  });

  it('sets the endpoint: the secret is answered once, sealed at rest, and never shown again', async () => {
    await http().get('/api/v1/tenants/acme/webhook').set(acme()).expect(404);
    const created = await http()
      .put('/api/v1/tenants/acme/webhook')
      .set(acme())
      .send({ url: receiver.url })
      .expect(201);
    secret = created.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body.endpoint).toMatchObject({ url: receiver.url, previousSecretExpiresAt: null });

    const shown = await http().get('/api/v1/tenants/acme/webhook').set(acme()).expect(200);
    const again = await http()
      .put('/api/v1/tenants/acme/webhook')
      .set(acme())
      .send({ url: receiver.url })
      .expect(200);
    for (const body of [shown.text, again.text]) expect(body).not.toContain(secret);
    const row = await app
      .get<MikroORM>(CRM_ORM)
      .em.fork()
      .findOneOrFail(WebhookEndpoint, { tenant: 'acme' }, { populate: ['secret'] });
    expect(JSON.stringify(row.secret)).not.toContain(secret);
    const audit = await app.get<MikroORM>(CRM_ORM).em.fork().find(AuditLogEntry, { tenantId: 'acme' });
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['webhook.endpoint.created', 'webhook.endpoint.updated']),
    );
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('delivers a synced CRM change signed so the README verifier accepts it, and rejects it tampered or replayed', async () => {
    await crmChange('ada@crm.example', 'Ada');
    const result = await runJob();
    expect(result).toMatchObject({ made: 1, delivered: 1, retrying: 0, failed: 0, nextAttemptAt: null });
    const { headers, body } = receiver.last();
    const header = headers['penguinmails-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyPenguinMailsSignature(header, body, secret, seconds(now()))).toBe(true);

    const payload = JSON.parse(body);
    expect(payload).toMatchObject({
      type: 'contacts.changed',
      tenantId: 'acme',
      id: headers['penguinmails-delivery'],
    });
    expect(payload.changes).toEqual([
      expect.objectContaining({
        email: 'ada@crm.example',
        kind: 'created',
        connectionId: connection.id,
        provider: 'hubspot',
        fields: expect.arrayContaining(['email', 'firstName']),
      }),
    ]);
    expect(body).not.toContain(secret);
    expect(JSON.stringify(headers)).not.toContain(secret);

    // Tampered: one changed byte in the body, or a signature made with another secret.
    expect(verifyPenguinMailsSignature(header, body.replace('Ada', 'Eve'), secret, seconds(now()))).toBe(
      false,
    );
    expect(verifyPenguinMailsSignature(header, body, `${secret}x`, seconds(now()))).toBe(false);
    const forgedT = header.replace(/^t=(\d+)/, (_, t: string) => `t=${Number(t) + 1}`);
    expect(verifyPenguinMailsSignature(forgedT, body, secret, seconds(now()))).toBe(false);
    // Replayed: the same request ten minutes later is outside the window.
    expect(verifyPenguinMailsSignature(header, body, secret, seconds(now()) + 600)).toBe(false);

    const [delivery] = await deliveries();
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastError: null,
      nextAttemptAt: null,
    });
    // Nothing new: the job makes nothing and sends nothing.
    expect(await runJob()).toMatchObject({ made: 0, delivered: 0 });
    expect(receiver.received).toHaveLength(1);
  });

  it('retries with backoff while the receiver is down, and delivers once it is back (clock moved, no waiting)', async () => {
    receiver.up = false;
    await crmChange('bob@crm.example', 'Bob');
    const first = await runJob();
    expect(first).toMatchObject({ made: 1, delivered: 0, retrying: 1 });
    const [pending] = await deliveries({ status: 'pending' });
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending.lastError).toMatch(/Could not reach the receiver/);
    const retryInMs = new Date(pending.nextAttemptAt!).getTime() - now().getTime();
    expect(retryInMs).toBeGreaterThan(25_000);
    expect(retryInMs).toBeLessThanOrEqual(30_000);
    expect(first.nextAttemptAt?.toISOString()).toBe(pending.nextAttemptAt);

    // Not due yet: nothing is attempted.
    expect(await runJob()).toMatchObject({ delivered: 0, retrying: 0 });
    moveClock(31_000);
    const second = await runJob();
    expect(second).toMatchObject({ retrying: 1 });
    const [again] = await deliveries({ status: 'pending' });
    expect(again.attempts).toBe(2);
    // Doubled: about a minute after the second attempt.
    expect(new Date(again.nextAttemptAt!).getTime() - now().getTime()).toBeGreaterThan(55_000);

    receiver.up = true;
    moveClock(61_000);
    expect(await runJob()).toMatchObject({ delivered: 1, nextAttemptAt: null });
    const { headers, body } = receiver.last();
    expect(JSON.parse(body).changes[0].email).toBe('bob@crm.example');
    expect(
      verifyPenguinMailsSignature(headers['penguinmails-signature'] as string, body, secret, seconds(now())),
    ).toBe(true);
    expect((await deliveries())[0]).toMatchObject({ id: pending.id, status: 'delivered', attempts: 3 });
  });

  it('gives up after a day of retries (failed), and a manual redeliver sends it once the receiver is back', async () => {
    receiver.up = false;
    await crmChange('cyd@crm.example', 'Cyd');
    await runJob();
    let [delivery] = await deliveries();
    for (let attempt = 0; attempt < 40 && delivery.status === 'pending'; attempt++) {
      moveClock(new Date(delivery.nextAttemptAt!).getTime() - now().getTime() + 1);
      await runJob();
      [delivery] = await deliveries();
    }
    expect(delivery.status).toBe('failed');
    expect(delivery.nextAttemptAt).toBeNull();
    // Exponential: 30 s doubling to 2 h apart fills a day in about twenty attempts, not hundreds.
    expect(delivery.attempts).toBeGreaterThan(10);
    expect(delivery.attempts).toBeLessThan(25);
    expect(await deliveries({ status: 'failed' })).toHaveLength(1);

    // Still down: the redeliver answers the failure and the delivery stays failed.
    const stillDown = await http()
      .post(`/api/v1/tenants/acme/webhook/deliveries/${delivery.id}/redeliver`)
      .set(acme())
      .expect(200);
    expect(stillDown.body).toMatchObject({ status: 'failed', attempts: delivery.attempts + 1 });

    receiver.up = true;
    const count = receiver.received.length;
    const redelivered = await http()
      .post(`/api/v1/tenants/acme/webhook/deliveries/${delivery.id}/redeliver`)
      .set(acme())
      .expect(200);
    expect(redelivered.body).toMatchObject({ id: delivery.id, status: 'delivered', lastError: null });
    expect(receiver.received).toHaveLength(count + 1);
    const { headers, body } = receiver.last();
    expect(headers['penguinmails-delivery']).toBe(delivery.id);
    expect(JSON.parse(body).changes[0].email).toBe('cyd@crm.example');
    expect(
      verifyPenguinMailsSignature(headers['penguinmails-signature'] as string, body, secret, seconds(now())),
    ).toBe(true);
  });

  it('rotates the secret with an overlap: both secrets verify until it ends, then only the new one', async () => {
    const rotated = await http()
      .post('/api/v1/tenants/acme/webhook/rotate-secret')
      .set(acme())
      .send({ overlapHours: 2 })
      .expect(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(secret);
    const overlapMs = new Date(rotated.body.endpoint.previousSecretExpiresAt).getTime() - now().getTime();
    expect(overlapMs).toBeGreaterThan(2 * 3_600_000 - 60_000);
    expect(overlapMs).toBeLessThanOrEqual(2 * 3_600_000);

    await crmChange('dee@crm.example', 'Dee');
    await runJob();
    let { headers, body } = receiver.last();
    let header = headers['penguinmails-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifyPenguinMailsSignature(header, body, newSecret, seconds(now()))).toBe(true);
    expect(verifyPenguinMailsSignature(header, body, secret, seconds(now()))).toBe(true);

    moveClock(2 * 3_600_000 + 1_000);
    await crmChange('eli@crm.example', 'Eli');
    await runJob();
    ({ headers, body } = receiver.last());
    header = headers['penguinmails-signature'] as string;
    expect(JSON.parse(body).changes[0].email).toBe('eli@crm.example');
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyPenguinMailsSignature(header, body, newSecret, seconds(now()))).toBe(true);
    expect(verifyPenguinMailsSignature(header, body, secret, seconds(now()))).toBe(false);
    secret = newSecret;
  });

  it('answers bad input with 4xx problem+json naming the field, and keeps tenants apart', async () => {
    const badUrl = await http()
      .put('/api/v1/tenants/acme/webhook')
      .set(acme())
      .send({ url: 'ftp://x' })
      .expect(400);
    expect(badUrl.body.invalidParams[0].name).toBe('url');
    const badOverlap = await http()
      .post('/api/v1/tenants/acme/webhook/rotate-secret')
      .set(acme())
      .send({ overlapHours: 1000 })
      .expect(400);
    expect(badOverlap.body.invalidParams[0].name).toBe('overlapHours');
    const badStatus = await http()
      .get('/api/v1/tenants/acme/webhook/deliveries')
      .query({ status: 'lost' })
      .set(acme())
      .expect(400);
    expect(badStatus.body.invalidParams[0].name).toBe('status');
    await http()
      .get('/api/v1/tenants/acme/webhook/deliveries')
      .query({ cursor: 'nope' })
      .set(acme())
      .expect(400);
    await http().post('/api/v1/tenants/acme/webhook/deliveries/not-a-uuid/redeliver').set(acme()).expect(400);
    const [delivery] = await deliveries();
    await http()
      .post(`/api/v1/tenants/globex/webhook/deliveries/${delivery.id}/redeliver`)
      .set({ Authorization: `Bearer ${globexToken}` })
      .expect(404);
    await http()
      .get('/api/v1/tenants/acme/webhook/deliveries')
      .set({ Authorization: `Bearer ${globexToken}` })
      .expect(403);
    await http()
      .get('/api/v1/tenants/globex/webhook')
      .set({ Authorization: `Bearer ${globexToken}` })
      .expect(404);

    // Paging: newest first, by cursor.
    const firstPage = await http()
      .get('/api/v1/tenants/acme/webhook/deliveries')
      .query({ limit: 2 })
      .set(acme())
      .expect(200);
    const secondPage = await http()
      .get('/api/v1/tenants/acme/webhook/deliveries')
      .query({ limit: 2, cursor: firstPage.body.nextCursor })
      .set(acme())
      .expect(200);
    const ids = [...firstPage.body.data, ...secondPage.body.data].map((entry: { id: string }) => entry.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  it('sends through the pg-boss job on its own when workers run: the sync’s change reaches the receiver', async () => {
    clock.now = realNow;
    offsetMs = 0;
    await app.close();
    app = await startFeatureApp(database.url, platformToken, { workers: true });
    clock = app.get<ApiClock>(API_CLOCK);
    realNow = clock.now;
    const arrived = receiver.next();
    await crmChange('fay@crm.example', 'Fay');
    const { headers, body } = await arrived;
    expect(JSON.parse(body).changes.map((change: { email: string }) => change.email)).toEqual([
      'fay@crm.example',
    ]);
    expect(
      verifyPenguinMailsSignature(
        headers['penguinmails-signature'] as string,
        body,
        secret,
        seconds(new Date()),
      ),
    ).toBe(true);
    await http().delete('/api/v1/tenants/acme/webhook').set(acme()).expect(204);
    await http().get('/api/v1/tenants/acme/webhook').set(acme()).expect(404);
  });
});
