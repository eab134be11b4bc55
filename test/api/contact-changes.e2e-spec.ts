import type { INestApplication } from '@nestjs/common';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import type { SyncConnection } from '@pm/sync-engine';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { CRM_INTEGRATIONS_OPTIONS } from '../../src/crm-integrations/crm-integrations.options';
import { RetentionRepository } from '../../src/crm-integrations/repositories';
import { RetentionService } from '../../src/crm-integrations/retention/retention.service';
import { seedSyncConnection, startFeatureApp, syncOnce } from '../support/crm-change-bed';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const CHANGES = '/api/v1/tenants/acme/contacts/changes';

interface Change {
  sequence: string;
  email: string;
  kind: string;
  connectionId: string;
  provider: string;
  fields: string[];
  values: Record<string, string | null>;
}

/**
 * The change feed as the PenguinMails backend reads it: CRM-side changes made in the HubSpot sandbox and synced by
 * the real engine, read page by page; the client keeps only its cursor across a restart of the service.
 */
describe('contact change feed API', () => {
  const platformToken = `platform-${randomBytes(16).toString('hex')}`;
  let database: TestDatabase;
  let app: INestApplication;
  let bed: HubSpotTestBed;
  let connection: SyncConnection;
  let acmeToken: string;
  let globexToken: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startFeatureApp(database.url, platformToken);
    bed = await startHubSpotTestBed();
    connection = await seedSyncConnection(app, 'acme', 'hubspot');
    await seedSyncConnection(app, 'globex', 'hubspot');
    const orm = app.get<MikroORM>(CRM_ORM);
    const tokens = app.get(ServiceTokenService);
    await RequestContext.create(orm.em, async () => {
      acmeToken = (await tokens.issue('acme-backend', 'acme')).token;
      globexToken = (await tokens.issue('globex-backend', 'globex')).token;
    });
  });

  afterAll(async () => {
    await bed?.close();
    await app?.close();
    await database?.drop();
  });

  const read = async (cursor?: string, limit = 2) => {
    const response = await request(app.getHttpServer())
      .get(CHANGES)
      .query({ ...(cursor ? { cursor } : {}), limit })
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(200);
    return response.body as { data: Change[]; nextCursor: string; hasMore: boolean };
  };

  /** A client: reads every page from its cursor, and keeps only the cursor. */
  const drain = async (cursor?: string) => {
    const seen: Change[] = [];
    let page = await read(cursor);
    seen.push(...page.data);
    while (page.hasMore) {
      page = await read(page.nextCursor);
      seen.push(...page.data);
    }
    return { seen, cursor: page.nextCursor };
  };

  it('hands out CRM-side changes once each, in order, across pages and a restart of the service', async () => {
    const session = await bed.session();
    const created = ['cora', 'cole', 'cyd'].map((name) =>
      bed.sandbox.createInCrm('contacts', { email: `${name}@crm.example`, firstname: name, lastname: 'Crm' }),
    );
    // A PenguinMails-side change is not a CRM change: it reaches the CRM, and nothing comes back into the feed.
    await request(app.getHttpServer())
      .post('/api/v1/tenants/acme/contacts')
      .set('Authorization', `Bearer ${acmeToken}`)
      .send({ email: 'local@pm.example', firstName: 'Local' })
      .expect(201);
    await syncOnce(app, bed.connector, session, connection);

    const first = await drain();
    const ours = first.seen.filter((change) => change.email.endsWith('@crm.example'));
    expect(ours.map((change) => change.email)).toEqual(created.map((record) => record.properties.email));
    for (const change of ours) {
      expect(change).toMatchObject({ kind: 'created', connectionId: connection.id, provider: 'hubspot' });
      expect(change.fields).toEqual(expect.arrayContaining(['email', 'firstName', 'lastName']));
      expect(change.values).toMatchObject({ lastName: 'Crm' });
    }
    expect(first.seen.some((change) => change.email === 'local@pm.example')).toBe(false);
    const sequences = first.seen.map((change) => BigInt(change.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
    // Nothing new: an empty page that keeps the cursor.
    expect(await read(first.cursor)).toEqual({ data: [], nextCursor: first.cursor, hasMore: false });

    // The service restarts; meanwhile someone edits a contact in HubSpot.
    await app.close();
    bed.sandbox.editInCrm('contacts', created[1].id, { firstname: 'Colette' });
    app = await startFeatureApp(database.url, platformToken);
    await syncOnce(app, bed.connector, session, connection);
    // Synced again with nothing new: no entry.
    await syncOnce(app, bed.connector, session, connection);

    const resumed = await drain(first.cursor);
    expect(resumed.seen).toEqual([
      expect.objectContaining({
        email: 'cole@crm.example',
        kind: 'updated',
        connectionId: connection.id,
        fields: ['firstName'],
        values: { firstName: 'Colette' },
      }),
    ]);
    expect(BigInt(resumed.seen[0].sequence)).toBeGreaterThan(sequences.at(-1)!);
  });

  it('starts at the newest change with cursor=now, and refuses a cursor it did not hand out with 400 naming cursor', async () => {
    const now = await read('now');
    expect(now.data).toEqual([]);
    const all = await drain();
    expect(now.nextCursor).toBe(all.cursor);

    for (const bad of [
      'garbage',
      'Y2YxLi0x',
      Buffer.from('cf1.99999999999999999999').toString('base64url'),
      '%%%',
    ]) {
      const response = await request(app.getHttpServer())
        .get(CHANGES)
        .query({ cursor: bad })
        .set('Authorization', `Bearer ${acmeToken}`)
        .expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.invalidParams).toEqual([
        { name: 'cursor', reason: 'is not a cursor this feed returned' },
      ]);
    }
    const tooBig = await request(app.getHttpServer())
      .get(CHANGES)
      .query({ limit: 1001 })
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(400);
    expect(tooBig.body.invalidParams[0].name).toBe('limit');
  });

  it('shows a tenant only its own feed', async () => {
    await request(app.getHttpServer()).get(CHANGES).set('Authorization', `Bearer ${globexToken}`).expect(403);
    const globex = await request(app.getHttpServer())
      .get('/api/v1/tenants/globex/contacts/changes')
      .set('Authorization', `Bearer ${globexToken}`)
      .expect(200);
    expect(globex.body.data).toEqual([]);
  });

  it('answers 410 naming cursor once the retention deleted changes a reader had not read; a new reader starts after them', async () => {
    const behind = await drain();
    const session = await bed.session();
    bed.sandbox.createInCrm('contacts', { email: 'rita@crm.example', firstname: 'Rita', lastname: 'Crm' });
    await syncOnce(app, bed.connector, session, connection);
    expect((await read(behind.cursor)).data.map((change) => change.email)).toEqual(['rita@crm.example']);

    // 31 days on, the hourly pass deletes every entry (the default keeps 30 days).
    const retention = new RetentionService(
      app.get(RetentionRepository),
      app.get(CRM_INTEGRATIONS_OPTIONS),
      true,
    );
    const outcome = await retention.tick(new Date(Date.now() + 31 * 86_400_000));
    expect(outcome.changeFeed).toBeGreaterThan(0);

    const expired = await request(app.getHttpServer())
      .get(CHANGES)
      .query({ cursor: behind.cursor })
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(410);
    expect(expired.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(expired.body.invalidParams).toEqual([
      { name: 'cursor', reason: expect.stringMatching(/^has expired/) },
    ]);

    const fresh = await drain();
    expect(fresh.seen).toEqual([]);
    expect((await read(fresh.cursor)).data).toEqual([]);
  });
});
