import { collectChangePages } from '@pm/connector-kit/testing';
import { compareIds, cursorAfter, dropSeen } from '@pm/connector-kit';
import { CrmErrorCode, type CrmSession, type RateLimitObservation } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { connect, connectorFor, startSalesforceSandbox } from '../src/testing';

const QUERY_ALL = 'GET /services/data/:version/queryAll';
const CREATE = 'POST /services/data/:version/composite/sobjects';
const TOKEN = 'POST /services/oauth2/token';

async function readAll(
  connector: SalesforceConnector,
  session: CrmSession,
  object: string,
  since: { modifiedAt: string; lastId?: string } | null,
  pageSize: number,
) {
  const pages = await collectChangePages(connector, session, { object, since, pageSize });
  return {
    pages,
    records: pages.flatMap((page) => page.records),
    deleted: pages.flatMap((page) => page.deleted),
  };
}

describe('Salesforce connector against the Salesforce sandbox (jsforce over HTTP)', () => {
  let sandbox: SalesforceSandbox;
  let connector: SalesforceConnector;
  let session: CrmSession & { refreshToken?: string };
  const observations: RateLimitObservation[] = [];

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox();
    connector = connectorFor(sandbox, { timeoutMs: 2_000 });
    const connected = await connect(sandbox, connector);
    session = { ...connected, onRateLimit: (observation) => observations.push(observation) };
  });

  afterAll(() => sandbox.stop());

  beforeEach(() => {
    sandbox.reset();
    sandbox.rateLimiter.configure({ dailyLimit: 15_000, enforce: false }, true);
    observations.length = 0;
  });

  describe('reading changes', () => {
    it('reads 3,000 contacts sharing one SystemModstamp exactly once, in (stamp, id) order, and resumes inside the group', async () => {
      const at = new Date('2026-03-02T10:00:00.000Z');
      const before = sandbox.seedContacts(5, { timestamp: new Date('2026-03-02T09:59:59.000Z') });
      const group = sandbox.seedContacts(3_000, { timestamp: at });
      const after = sandbox.seedContacts(3, { timestamp: new Date('2026-03-02T10:00:01.000Z') });

      const { pages, records } = await readAll(connector, session, 'Contact', null, 1_000);
      expect(records.map((record) => record.id)).toEqual(
        [...before, ...group, ...after].map((record) => record.id),
      );
      // 3,008 records in pages of 1,000: four pages, one query each, nothing read twice.
      expect(pages.map((page) => page.records.length)).toEqual([1_000, 1_000, 1_000, 8]);
      expect(sandbox.counters.count(QUERY_ALL)).toBe(4);

      // A run that stopped after 1,234 records of the group resumes from (stamp, id) and loses nothing.
      const groupIds = group.map((record) => record.id).sort(compareIds);
      const cursor = { modifiedAt: at.toISOString(), lastId: groupIds[1_233] };
      const resumed = await readAll(connector, session, 'Contact', cursor, 1_000);
      expect(dropSeen(resumed.records, cursor).map((record) => record.id)).toEqual([
        ...groupIds.slice(1_234),
        ...after.map((record) => record.id),
      ]);
      expect(resumed.records.every((record) => record.modifiedAt >= at.toISOString())).toBe(true);
      expect(cursorAfter(resumed.records, cursor)).toEqual({
        modifiedAt: '2026-03-02T10:00:01.000Z',
        lastId: after[2].id,
      });
    });

    it('reports deletions from the recycle bin (queryAll IsDeleted) in the same pass, and edits after the cursor', async () => {
      const staged = sandbox.seedContacts(4, { timestamp: new Date('2026-03-02T10:00:00Z') });
      const first = await readAll(connector, session, 'Contact', null, 100);
      const cursor = cursorAfter(first.records, null);

      sandbox.clock.freeze();
      sandbox.clock.set('2026-03-02T10:05:00Z');
      sandbox.deleteInCrm('Contact', staged[1].id);
      sandbox.clock.set('2026-03-02T10:06:00Z');
      sandbox.editInCrm('Contact', staged[2].id, { Title: 'Chief Penguin' });
      sandbox.clock.reset();

      const next = await readAll(connector, session, 'Contact', cursor, 100);
      expect(next.deleted).toEqual([
        { id: staged[1].id, object: 'Contact', deletedAt: '2026-03-02T10:05:00.000Z' },
      ]);
      expect(next.records.map((record) => [record.id, record.fields.Title])).toEqual([
        [staged[2].id, 'Chief Penguin'],
      ]);
      expect(next.records[0].modifiedAt).toBe('2026-03-02T10:06:00.000Z');
    });

    it('reads Leads, Accounts and Tasks with their default fields, and the caller’s field list', async () => {
      sandbox.seedLeads(2);
      sandbox.seedAccounts(1);
      const leads = await connector.readChanges(session, { object: 'Lead', since: null });
      expect(leads.records).toHaveLength(2);
      expect(leads.records[0].fields).toEqual(
        expect.objectContaining({ Company: expect.any(String), Email: expect.any(String) }),
      );
      const accounts = await connector.readChanges(session, {
        object: 'Account',
        since: null,
        fields: ['Name'],
      });
      expect(Object.keys(accounts.records[0].fields).sort()).toEqual(
        ['CreatedDate', 'Id', 'IsDeleted', 'LastModifiedDate', 'Name', 'SystemModstamp'].sort(),
      );
      const bad = await crmFailure(
        connector.readChanges(session, { object: 'Contact', since: null, pageToken: 'garbage' }),
      );
      expect(bad.code).toBe(CrmErrorCode.VALIDATION_FAILED);
    });
  });

  describe('errors and limits', () => {
    it('maps a 429 with Retry-After to RATE_LIMITED without jsforce retrying (GET and POST)', async () => {
      sandbox.faults.rateLimitStorm(1, 7, { method: 'GET', path: '/services/data/:version/queryAll' });
      const read = await crmFailure(connector.readChanges(session, { object: 'Contact', since: null }));
      expect(read).toMatchObject({
        code: CrmErrorCode.RATE_LIMITED,
        status: 429,
        retryAfterMs: 7_000,
        crmCode: 'REQUEST_LIMIT_EXCEEDED',
      });
      expect(sandbox.counters.count(QUERY_ALL)).toBe(1);
      expect(observations.at(-1)).toMatchObject({ retryAfterMs: 7_000 });

      sandbox.faults.rateLimitStorm(1, 2, {
        method: 'POST',
        path: '/services/data/:version/composite/sobjects',
      });
      const write = await crmFailure(
        connector.upsertBatch(session, {
          object: 'Account',
          records: [{ key: 'a', fields: { Name: 'Acme' } }],
        }),
      );
      expect(write).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 2_000 });
      expect(sandbox.counters.count(CREATE)).toBe(1);
    });

    it('maps 5xx and a dropped connection to CRM_UNAVAILABLE, a hang past the client timeout to TIMEOUT', async () => {
      sandbox.faults.status(
        503,
        [{ message: 'Service unavailable', errorCode: 'SERVER_UNAVAILABLE' }],
        {
          'content-type': 'application/json;charset=UTF-8',
        },
        { path: '/services/data/:version/queryAll' },
      );
      const unavailable = await crmFailure(
        connector.readChanges(session, { object: 'Contact', since: null }),
      );
      expect(unavailable).toMatchObject({
        code: CrmErrorCode.CRM_UNAVAILABLE,
        status: 503,
        message: 'Service unavailable',
      });
      expect(sandbox.counters.count(QUERY_ALL)).toBe(1);

      sandbox.faults.dropConnection({ path: '/services/data/:version/queryAll' });
      const reset = await crmFailure(connector.readChanges(session, { object: 'Contact', since: null }));
      expect(reset.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
      expect(sandbox.counters.count(QUERY_ALL)).toBe(2);

      const impatient = connectorFor(sandbox, { timeoutMs: 200 });
      sandbox.faults.hang(1_500, { path: '/services/data/:version/queryAll' });
      const started = Date.now();
      const slow = await crmFailure(impatient.readChanges(session, { object: 'Contact', since: null }));
      expect(slow.code).toBe(CrmErrorCode.TIMEOUT);
      expect(Date.now() - started).toBeLessThan(1_400);
    });

    it('maps the used-up daily allocation (403 REQUEST_LIMIT_EXCEEDED) to QUOTA_EXHAUSTED and reports Sforce-Limit-Info', async () => {
      sandbox.rateLimiter.configure({ dailyLimit: 2, enforce: true }, true);
      await connector.readChanges(session, { object: 'Contact', since: null });
      expect(observations).toEqual([{ dailyLimit: 2, dailyRemaining: 1 }]);
      await connector.readChanges(session, { object: 'Contact', since: null });
      const exhausted = await crmFailure(connector.readChanges(session, { object: 'Contact', since: null }));
      expect(exhausted).toMatchObject({
        code: CrmErrorCode.QUOTA_EXHAUSTED,
        status: 403,
        message: 'TotalRequests Limit exceeded.',
      });
      expect(observations.at(-1)).toEqual({ dailyLimit: 2, dailyRemaining: 0 });
    });

    it('maps an expired session to AUTH_EXPIRED without jsforce refreshing it, and keeps tokens out of messages', async () => {
      const own = await connect(sandbox, connector);
      sandbox.counters.reset();
      sandbox.oauth.expireAllAccessTokens();
      const expired = await crmFailure(connector.describeObject(own, 'Contact'));
      expect(expired).toMatchObject({
        code: CrmErrorCode.AUTH_EXPIRED,
        status: 401,
        crmCode: 'INVALID_SESSION_ID',
      });
      expect(expired.message).not.toContain(own.accessToken);
      expect(sandbox.counters.count(TOKEN)).toBe(0);

      const refreshed = await connector.refreshTokens(own.refreshToken as string);
      expect(refreshed).toMatchObject({
        instanceUrl: sandbox.baseUrl,
        account: { id: sandbox.org.orgId, userId: sandbox.org.userId },
      });
      const fields = await connector.describeObject(
        { ...own, accessToken: refreshed.accessToken },
        'Contact',
      );
      expect(fields.length).toBeGreaterThan(5);
      session = {
        ...session,
        accessToken: (await connector.refreshTokens(session.refreshToken as string)).accessToken,
      };

      await connector.revokeToken(own.refreshToken as string);
      const revoked = await crmFailure(connector.refreshTokens(own.refreshToken as string));
      expect(revoked).toMatchObject({
        code: CrmErrorCode.AUTH_REVOKED,
        crmCode: 'invalid_grant',
        message: 'expired access/refresh token',
      });
      expect(revoked.message).not.toContain(own.refreshToken);
    });

    it('maps an unknown object to NOT_FOUND and an aborted call to ABORTED', async () => {
      const missing = await crmFailure(connector.describeObject(session, 'Penguin__c'));
      expect(missing).toMatchObject({ code: CrmErrorCode.NOT_FOUND, status: 404 });
      const controller = new AbortController();
      controller.abort();
      const aborted = await crmFailure(
        connector.readChanges({ ...session, signal: controller.signal }, { object: 'Contact', since: null }),
      );
      expect(aborted.code).toBe(CrmErrorCode.ABORTED);
    });
  });
});
