import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CrmConnection, SyncLogEntry, Tenant, type SyncLogAction } from '@pm/domain';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import {
  ConnectionActivityService,
  CRM_ORM,
  ServiceTokenService,
  SyncLogService,
} from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

const NOW = new Date('2026-12-06T15:00:00.000Z');
const at = (iso: string) => new Date(iso);

describe('Connection control: status, reconnect, Sync now, today’s counts, the log', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let acme: { Authorization: string };
  let globex: { Authorization: string };
  let hubspotId: string;
  let salesforceId: string;
  let globexId: string;
  const base = '/api/v1/tenants';

  beforeAll(async () => {
    testApp = await startTestApp(
      { PUBLIC_URL: 'http://crm.test' },
      { clock: () => NOW, connectors: { 'in-memory': new InMemoryConnector(new InMemoryCrm()) } },
    );
    http = request(testApp.app.getHttpServer());
    const platform = { Authorization: `Bearer ${testApp.platformToken}` };
    await http.put(`${base}/acme`).set(platform).send({ name: 'Acme' }).expect(200);
    await http.put(`${base}/globex`).set(platform).send({ name: 'Globex' }).expect(200);

    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const connection = (tenant: string, overrides: Partial<CrmConnection>) =>
      em.create(CrmConnection, {
        tenant: em.getReference(Tenant, tenant),
        provider: 'in-memory',
        status: 'connected',
        ...overrides,
      });
    const hubspot = connection('acme', { crmAccountName: 'Acme portal', crmAccountId: 'acct-1' });
    const salesforce = connection('acme', {
      status: 'needs_reconnect',
      statusReason: 'invalid_grant: token revoked',
      health: 'paused',
      healthReason: 'credentials revoked',
    });
    const theirs = connection('globex', {});
    await em.flush();
    [hubspotId, salesforceId, globexId] = [hubspot.id, salesforce.id, theirs.id];

    const line = (
      conn: CrmConnection,
      when: string,
      direction: SyncLogEntry['direction'],
      action: SyncLogAction,
      key: string,
    ) =>
      em.create(SyncLogEntry, {
        tenant: conn.tenant,
        connection: conn,
        at: at(when),
        direction,
        object: 'contacts',
        recordKey: key,
        action,
        message: `${action}: ${key}`,
      });
    // Yesterday (not today's) and tomorrow's midnight bound.
    line(hubspot, '2026-12-05T23:59:59.999Z', 'from_crm', 'created', 'old@example.com');
    // Today, hubspot: 2 in, 1 out, 1 activity, 2 conflicts, 1 error, 1 skipped (not counted).
    line(hubspot, '2026-12-06T00:00:00.000Z', 'from_crm', 'created', 'a@example.com');
    line(hubspot, '2026-12-06T08:00:00.000Z', 'from_crm', 'updated', 'b@example.com');
    line(hubspot, '2026-12-06T09:00:00.000Z', 'to_crm', 'created', 'c@example.com');
    line(hubspot, '2026-12-06T10:00:00.000Z', 'to_crm', 'activity_logged', 'c@example.com');
    line(hubspot, '2026-12-06T11:00:00.000Z', 'to_crm', 'conflict_resolved', 'b@example.com');
    line(hubspot, '2026-12-06T11:00:00.000Z', 'to_crm', 'conflict_resolved', 'b@example.com');
    line(hubspot, '2026-12-06T12:00:00.000Z', 'to_crm', 'error', 'd@example.com');
    line(hubspot, '2026-12-06T13:00:00.000Z', 'from_crm', 'skipped', 'e@example.com');
    // Today, salesforce: 1 out, 1 error.
    line(salesforce, '2026-12-06T07:00:00.000Z', 'to_crm', 'updated', 'f@example.com');
    line(salesforce, '2026-12-06T14:00:00.000Z', 'none', 'error', 'connection');
    // Another tenant's lines never count for acme.
    line(theirs, '2026-12-06T09:30:00.000Z', 'to_crm', 'created', 'g@example.com');
    line(theirs, '2026-12-06T09:31:00.000Z', 'to_crm', 'error', 'h@example.com');
    await em.flush();

    const tokens = testApp.app.get(ServiceTokenService);
    await RequestContext.create(orm.em, async () => {
      acme = { Authorization: `Bearer ${(await tokens.issue('acme', 'acme')).token}` };
      globex = { Authorization: `Bearer ${(await tokens.issue('globex', 'globex')).token}` };
    });
  });

  afterAll(() => testApp.close());

  it('reads a connection’s status and health with their reasons', async () => {
    const response = await http.get(`${base}/acme/connections/${salesforceId}`).set(acme).expect(200);
    expect(response.body).toMatchObject({
      status: 'needs_reconnect',
      statusReason: 'invalid_grant: token revoked',
      health: 'paused',
      healthReason: 'credentials revoked',
    });
  });

  it('keeps settings and disconnect to the tenant’s own connections (403 on another path, 404 for theirs)', async () => {
    await http
      .patch(`${base}/globex/connections/${globexId}/settings`)
      .set(acme)
      .send({ frequency: 'hourly' })
      .expect(403);
    await http
      .patch(`${base}/acme/connections/${globexId}/settings`)
      .set(acme)
      .send({ frequency: 'hourly' })
      .expect(404);
    await http.delete(`${base}/globex/connections/${globexId}`).set(acme).expect(403);
    await http.delete(`${base}/acme/connections/${globexId}`).set(acme).expect(404);
    const theirs = await http.get(`${base}/globex/connections/${globexId}`).set(globex).expect(200);
    expect(theirs.body).toMatchObject({ status: 'connected', settings: { frequency: 'every_15_minutes' } });
  });

  describe('today’s counts', () => {
    it('counts one connection’s log lines since midnight UTC', async () => {
      const response = await http
        .get(`${base}/acme/connections/${hubspotId}/counts/today`)
        .set(acme)
        .expect(200);
      const counts = { contactsIn: 2, contactsOut: 1, activitiesLogged: 1, conflictsResolved: 2, errors: 1 };
      expect(response.body).toEqual({
        date: '2026-12-06',
        from: '2026-12-06T00:00:00.000Z',
        to: NOW.toISOString(),
        totals: counts,
        connections: [
          {
            connectionId: hubspotId,
            provider: 'in-memory',
            crmAccountName: 'Acme portal',
            status: 'connected',
            health: 'healthy',
            ...counts,
          },
        ],
      });
    });

    it('counts every connection of the tenant and sums them, never another tenant’s', async () => {
      const response = await http.get(`${base}/acme/counts/today`).set(acme).expect(200);
      expect(response.body.totals).toEqual({
        contactsIn: 2,
        contactsOut: 2,
        activitiesLogged: 1,
        conflictsResolved: 2,
        errors: 2,
      });
      expect(response.body.connections.map((c: { connectionId: string }) => c.connectionId).sort()).toEqual(
        [hubspotId, salesforceId].sort(),
      );
      const theirs = await http.get(`${base}/globex/counts/today`).set(globex).expect(200);
      expect(theirs.body.totals).toMatchObject({ contactsOut: 1, errors: 1, contactsIn: 0 });
    });

    it('keeps tenants apart: 403 on another tenant’s path, 404 for its connection under one’s own', async () => {
      await http.get(`${base}/globex/counts/today`).set(acme).expect(403);
      await http.get(`${base}/globex/connections/${globexId}/counts/today`).set(acme).expect(403);
      const notFound = await http
        .get(`${base}/acme/connections/${globexId}/counts/today`)
        .set(acme)
        .expect(404);
      expect(notFound.headers['content-type']).toMatch(/application\/problem\+json/);
      await http.get(`${base}/acme/counts/today`).expect(401);
      await http
        .get(`${base}/nobody/counts/today`)
        .set({ Authorization: `Bearer ${testApp.platformToken}` })
        .expect(404);
    });
  });

  describe('the log', () => {
    type Page = {
      data: { id: string; connectionId: string; action: string; at: string }[];
      nextCursor: string | null;
    };

    async function readAll(path: string, query: Record<string, string | number>): Promise<Page['data']> {
      const seen: Page['data'] = [];
      let cursor: string | null = null;
      do {
        const page: { body: Page } = await http
          .get(path)
          .query(cursor ? { ...query, cursor } : query)
          .set(acme)
          .expect(200);
        seen.push(...page.body.data);
        cursor = page.body.nextCursor;
      } while (cursor);
      return seen;
    }

    it('pages the tenant’s log newest first without skipping or repeating, lines of the same instant included', async () => {
      const lines = await readAll(`${base}/acme/sync-log`, { limit: 500 });
      expect(lines).toHaveLength(11);
      expect(new Set(lines.map((line) => line.id)).size).toBe(11);
      const times = lines.map((line) => line.at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(new Set(lines.map((line) => line.connectionId))).toEqual(new Set([hubspotId, salesforceId]));
      // Every page size gives the same lines in the same order: page boundaries fall between the two lines
      // written at the same instant (11:00) for sizes 4 and 1.
      for (const limit of [1, 3, 4]) {
        expect(await readAll(`${base}/acme/sync-log`, { limit })).toEqual(lines);
      }
      const last = await http.get(`${base}/acme/sync-log`).query({ limit: 11 }).set(acme).expect(200);
      expect(last.body.nextCursor).toBeNull();
    });

    it('filters by direction, action, errors only, time range and connection', async () => {
      const ids = async (query: Record<string, string>) =>
        (await readAll(`${base}/acme/sync-log`, query)).map((line) => line.action);
      expect(await ids({ errorsOnly: 'true' })).toEqual(['error', 'error']);
      expect(await ids({ direction: 'from_crm' })).toEqual(['skipped', 'updated', 'created', 'created']);
      expect(await ids({ action: 'created,updated' })).toEqual([
        'created',
        'updated',
        'updated',
        'created',
        'created',
      ]);
      expect(await ids({ from: '2026-12-06T00:00:00Z', to: '2026-12-06T09:00:00Z' })).toEqual([
        'updated',
        'updated',
        'created',
      ]);
      expect(await ids({ connectionId: salesforceId })).toEqual(['error', 'updated']);
      // Another tenant's connection id filters to nothing, not to its lines.
      expect(await ids({ connectionId: globexId })).toEqual([]);
    });

    it('pages one connection’s log with the same filters; today’s errors match the counts', async () => {
      const errors = await readAll(`${base}/acme/connections/${hubspotId}/sync-log`, {
        errorsOnly: 'true',
        from: '2026-12-06T00:00:00Z',
      });
      const counts = await http
        .get(`${base}/acme/connections/${hubspotId}/counts/today`)
        .set(acme)
        .expect(200);
      expect(errors).toHaveLength(counts.body.totals.errors);
      const all = await readAll(`${base}/acme/connections/${hubspotId}/sync-log`, { limit: 2 });
      expect(all).toHaveLength(9);
      expect(all.every((line) => line.connectionId === hubspotId)).toBe(true);
    });

    it('keeps tenants apart', async () => {
      await http.get(`${base}/globex/sync-log`).set(acme).expect(403);
      await http.get(`${base}/globex/connections/${globexId}/sync-log`).set(acme).expect(403);
      await http.get(`${base}/acme/connections/${globexId}/sync-log`).set(acme).expect(404);
      const theirs = await http.get(`${base}/globex/sync-log`).set(globex).expect(200);
      expect(theirs.body.data.map((line: { connectionId: string }) => line.connectionId)).toEqual([
        globexId,
        globexId,
      ]);
    });

    it('names the bad parameter or limit', async () => {
      const tooMany = await http.get(`${base}/acme/sync-log`).query({ limit: 501 }).set(acme).expect(422);
      expect(tooMany.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(tooMany.body).toMatchObject({
        type: 'urn:problem:limit-exceeded',
        invalidParams: [
          { name: 'limit', reason: 'limit must not be greater than 500 (the page size limit)' },
        ],
      });
      const cursor = await http
        .get(`${base}/acme/sync-log`)
        .query({ cursor: 'bm9wZQ' })
        .set(acme)
        .expect(400);
      expect(cursor.body.invalidParams).toEqual([
        { name: 'cursor', reason: 'is not a cursor this log gave out' },
      ]);
      const range = await http
        .get(`${base}/acme/sync-log`)
        .query({ from: '2026-12-06T10:00:00Z', to: '2026-12-06T09:00:00Z' })
        .set(acme)
        .expect(400);
      expect(range.body.invalidParams).toEqual([{ name: 'to', reason: 'must be after from' }]);
      const action = await http
        .get(`${base}/acme/sync-log`)
        .query({ action: 'exploded' })
        .set(acme)
        .expect(400);
      expect(action.body.invalidParams[0].name).toBe('action');
      const both = await http
        .get(`${base}/acme/sync-log`)
        .query({ action: 'created', errorsOnly: 'true' })
        .set(acme)
        .expect(400);
      expect(both.body.invalidParams[0].name).toBe('errorsOnly');
      const run = await http
        .get(`${base}/acme/connections/${hubspotId}/sync-log`)
        .query({ runId: 'x' })
        .set(acme)
        .expect(400);
      expect(run.body.invalidParams).toEqual([{ name: 'runId', reason: 'runId must be a UUID' }]);
      await http
        .get(`${base}/acme/connections/${hubspotId}/sync-runs`)
        .query({ limit: 501 })
        .set(acme)
        .expect(422);
    });
  });

  it('gives the AdminJS Sync Activity screen the same answers through the services, outside any request', async () => {
    const counts = await testApp.app.get(ConnectionActivityService).todayCounts('acme');
    const api = await http.get(`${base}/acme/counts/today`).set(acme).expect(200);
    expect(counts).toEqual(api.body);
    const page = await testApp.app.get(SyncLogService).page('acme', { errorsOnly: true, limit: 10 });
    expect(page.data.map((line) => line.action)).toEqual(['error', 'error']);
    const connectionPage = await testApp.app
      .get(SyncLogService)
      .connectionPage('acme', hubspotId, { limit: 2 });
    expect(connectionPage.data).toHaveLength(2);
    expect(connectionPage.nextCursor).not.toBeNull();
  });

  describe('reconnect and Sync now', () => {
    it('returns a new sign-in link bound to the connection (settings and links are kept on completion)', async () => {
      const response = await http
        .post(`${base}/acme/connections/${salesforceId}/reconnect`)
        .set(acme)
        .send({})
        .expect(201);
      expect(response.body.authorizeUrl).toMatch(/^http:\/\/crm\.test\/oauth\/in-memory\/start\?state=/);
      const rows = await testApp.app
        .get<MikroORM>(CRM_ORM)
        .em.getConnection()
        .execute<
          { connection_id: string; provider: string; tenant_id: string; start_over: boolean }[]
        >(`select connection_id, provider, tenant_id, start_over from oauth_states order by created_at desc limit 1`);
      expect(rows[0]).toEqual({
        connection_id: salesforceId,
        provider: 'in-memory',
        tenant_id: 'acme',
        start_over: false,
      });
    });

    it('refuses another tenant’s connection, an unknown one and a foreign return address', async () => {
      await http.post(`${base}/acme/connections/${globexId}/reconnect`).set(acme).send({}).expect(404);
      await http.post(`${base}/globex/connections/${globexId}/reconnect`).set(acme).send({}).expect(403);
      const foreign = await http
        .post(`${base}/acme/connections/${salesforceId}/reconnect`)
        .set(acme)
        .send({ returnTo: 'https://evil.example/cb' })
        .expect(400);
      expect(foreign.body.invalidParams).toEqual([
        { name: 'returnTo', reason: 'is not on an allowed origin' },
      ]);
      const unknown = await http
        .post(`${base}/acme/connections/${salesforceId}/reconnect`)
        .set(acme)
        .send({ provider: 'hubspot' })
        .expect(400);
      expect(unknown.body.invalidParams[0].name).toBe('provider');
    });

    it('"Sync now" on a connection that cannot sync is a 409 with the reason; another tenant’s is a 404', async () => {
      const refused = await http.post(`${base}/acme/connections/${salesforceId}/sync`).set(acme).expect(409);
      expect(refused.body.detail).toBe('Cannot sync now: the connection is needs_reconnect');
      await http.post(`${base}/acme/connections/${globexId}/sync`).set(acme).expect(404);
      await http.post(`${base}/globex/connections/${globexId}/sync`).set(acme).expect(403);
    });
  });
});
