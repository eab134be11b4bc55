import type { INestApplication } from '@nestjs/common';
import { salesforceBed, type CrmBed } from '../../../test/support/activity-crm-beds';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { SyncLocks } from '../sync/sync-locks';
import { activityHarness, emailEvent, TestSessions } from './testing/activity-harness';
import { startActivityTestApp } from './testing/activity-test-app';

/**
 * A delivery that runs once the process has begun to shut down (or after its lock's session ended) writes nothing
 * to the CRM: the events wait, kept, for the next delivery on any worker, instead of being written by two at once.
 */
describe('activity delivery while the process shuts down', () => {
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
      workers: false,
    });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('stops before writing, keeps the events waiting and says so in the log', async () => {
    bed.createContact('late@acme.example', 'Lena', 'Late');
    const t = await activityHarness(app, bed.port, sessions, 'shutdown', 'Contact');
    await t.sync();
    const event = emailEvent('sent', 'late@acme.example', 'm-late', 0, { subject: 'Sent while stopping' });
    await t.ingest([event]);

    app.get(SyncLocks).beforeApplicationShutdown();
    expect(await t.deliver()).toMatchObject({ status: 'interrupted', logged: 0 });
    expect((await t.deliveries()).get(event.eventId as string)).toMatchObject({
      status: 'pending',
      crmId: null,
    });
    expect(await t.logMessages()).toEqual([expect.stringContaining('paused, events kept for later')]);
  });
});
