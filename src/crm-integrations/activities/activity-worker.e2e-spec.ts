import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { salesforceBed, type CrmBed } from '../../../test/support/activity-crm-beds';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { ActivityDeliveryService, type DeliveryOutcome } from './activity-delivery.service';
import { ACTIVITY_DELIVERY_QUEUE } from './activity-queue';
import { activityHarness, emailEvent, TestSessions } from './testing/activity-harness';
import { startActivityTestApp } from './testing/activity-test-app';

/** Resolves with the outcome of the next delivery the worker runs for the connection. */
function nextDeliveryOf(app: INestApplication, connectionId: string): Promise<DeliveryOutcome> {
  const service = app.get(ActivityDeliveryService);
  const deliver = service.deliver.bind(service);
  return new Promise((resolve) => {
    const spy = jest.spyOn(service, 'deliver').mockImplementation(async (id: string) => {
      const outcome = await deliver(id);
      if (id === connectionId) {
        spy.mockRestore();
        resolve(outcome);
      }
      return outcome;
    });
  });
}

describe.each([
  ['without workers: a storm of ingest calls queues one delivery job per connection', false],
  ['with workers: ingest queues a pg-boss job that delivers into Salesforce', true],
])('activity delivery jobs', (title, workers) => {
  let database: TestDatabase;
  let bed: CrmBed;
  let app: INestApplication;
  const sessions = new TestSessions();

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await salesforceBed();
    sessions.reconnect(await bed.connect());
    app = await startActivityTestApp({
      databaseUrl: database.url,
      connectors: { [bed.port.provider]: bed.port },
      sessions,
      workers,
    });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it(title, async () => {
    bed.createContact('queue@acme.example', 'Quinn', 'Queue');
    const t = await activityHarness(app, bed.port, sessions, `queue-${workers}`, 'Contact');
    await t.sync();
    if (!workers) {
      for (let call = 0; call < 5; call++) {
        await t.ingest([emailEvent('sent', 'queue@acme.example', `m-${call}`, call)]);
      }
      const knex = app.get<MikroORM>(CRM_ORM).em.fork().getKnex();
      const jobs = await knex('pgboss.job').where({ name: ACTIVITY_DELIVERY_QUEUE }).count({ count: '*' });
      expect(Number(jobs[0].count)).toBe(1);
      return;
    }
    const delivered = nextDeliveryOf(app, t.connection.id);
    const event = emailEvent('sent', 'queue@acme.example', 'm-worker', 0, { subject: 'Through the queue' });
    await t.ingest([event]);
    expect(await delivered).toMatchObject({ status: 'done', logged: 1 });
    const delivery = (await t.deliveries()).get(event.eventId as string);
    expect(bed.activity(delivery?.crmId as string)?.subject).toContain('Through the queue');
  });
});
