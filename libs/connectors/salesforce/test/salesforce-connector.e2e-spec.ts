import { compareIds, cursorAfter, dropSeen, readAllChanges } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type ActivityInput,
  type CrmRecord,
  type CrmSession,
  type RateLimitObservation,
} from '@pm/integration-port';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { LostResponseProxy } from './lost-response-proxy';
import {
  ACTIVITY_KEY_FIELD,
  asCrmRecord,
  connect,
  connectorFor,
  startSalesforceSandbox,
} from '../src/testing';

const QUERY_ALL = 'GET /services/data/:version/queryAll';
const QUERY = 'GET /services/data/:version/query';
const CREATE = 'POST /services/data/:version/composite/sobjects';
const UPDATE = 'PATCH /services/data/:version/composite/sobjects';
const TOKEN = 'POST /services/oauth2/token';
const DELETE = 'DELETE /services/data/:version/composite/sobjects';
/** A well-formed Contact id (key prefix 003) that no record of the sandbox has. */
const NEVER_EXISTED_CONTACT_ID = '0038d0000ZZZZZZ';

async function failure(promise: Promise<unknown>): Promise<CrmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrmError) return error;
    throw new Error(`expected a CrmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

async function readAll(
  connector: SalesforceConnector,
  session: CrmSession,
  object: string,
  since: { modifiedAt: string; lastId?: string } | null,
  pageSize: number,
) {
  const pages = [];
  for await (const page of readAllChanges(connector, session, { object, since, pageSize })) pages.push(page);
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
      const bad = await failure(
        connector.readChanges(session, { object: 'Contact', since: null, pageToken: 'garbage' }),
      );
      expect(bad.code).toBe(CrmErrorCode.VALIDATION_FAILED);
    });
  });

  describe('writing', () => {
    it('writes 200 records in one sObject Collections call and refuses 201 before calling Salesforce', async () => {
      const inputs = Array.from({ length: 200 }, (_, index) => ({
        key: `k${index}`,
        fields: { LastName: `Bulk ${index}`, Email: `bulk-${index}@acme.example` },
      }));
      const results = await connector.upsertBatch(session, { object: 'Contact', records: inputs });
      expect(results.map((result) => result.key)).toEqual(inputs.map((input) => input.key));
      expect(results.every((result) => result.ok && result.created)).toBe(true);
      expect(sandbox.counters.count(CREATE)).toBe(1);
      expect(sandbox.counters.count(QUERY)).toBe(1); // the e-mail lookup, one query for the batch

      sandbox.counters.reset();
      const tooMany = await failure(
        connector.upsertBatch(session, {
          object: 'Contact',
          records: [...inputs, { key: 'x', fields: { LastName: 'X' } }],
        }),
      );
      expect(tooMany.code).toBe(CrmErrorCode.VALIDATION_FAILED);
      expect(sandbox.counters.snapshot().total).toBe(0);
    });

    it('fails a bad record alone with Salesforce’s statusCode, message and field; updates by id; same e-mail twice in a batch', async () => {
      sandbox.faults.recordErrors(
        { object: 'Contact', field: 'Email', equals: 'blocked@acme.example' },
        { message: 'Email domain is blocked by a validation rule', field: 'Email' },
      );
      const [existing] = sandbox.seedContacts(1);
      const results = await connector.upsertBatch(session, {
        object: 'Contact',
        records: [
          { key: 'blocked', fields: { LastName: 'Blocked', Email: 'blocked@acme.example' } },
          { key: 'no-last-name', fields: { FirstName: 'Nameless', Email: 'nameless@acme.example' } },
          { key: 'update', crmId: existing.id, fields: { Title: 'CTO' } },
          { key: 'gone', crmId: '003000000000000AAA', fields: { Title: 'CTO' } },
          { key: 'ok', fields: { LastName: 'Fine', Email: 'twice@acme.example' } },
          { key: 'twice', fields: { LastName: 'Again', Email: 'TWICE@acme.example' } },
        ],
      });
      expect(results).toEqual([
        {
          key: 'blocked',
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'Email domain is blocked by a validation rule',
            field: 'Email',
            crmCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          },
        },
        {
          key: 'no-last-name',
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'Required fields are missing: [LastName]',
            field: 'LastName',
            crmCode: 'REQUIRED_FIELD_MISSING',
          },
        },
        { key: 'update', ok: true, crmId: existing.id, created: false },
        {
          key: 'gone',
          ok: false,
          error: expect.objectContaining({
            crmCode: expect.stringMatching(/MALFORMED_ID|INVALID_CROSS_REFERENCE_KEY/),
          }),
        },
        { key: 'ok', ok: true, crmId: expect.any(String), created: true },
        {
          key: 'twice',
          ok: false,
          error: expect.objectContaining({ code: CrmErrorCode.DUPLICATE, field: 'Email' }),
        },
      ]);
      expect(sandbox.org.findById(existing.id)?.record.fields.Title).toBe('CTO');
      expect(
        sandbox
          .records('Contact')
          .filter((r) => String(r.fields.Email).toLowerCase() === 'twice@acme.example'),
      ).toHaveLength(1);
    });

    it('keeps a record with an unknown field or a mistyped value from failing the others (describe cached per org)', async () => {
      const fresh = connectorFor(sandbox);
      const [existing] = sandbox.seedContacts(1);
      const results = await fresh.upsertBatch(session, {
        object: 'Contact',
        records: [
          { key: 'typo', fields: { LastName: 'Typo', Emial: 'typo@acme.example' } },
          { key: 'fine', fields: { LastName: 'Fine', Email: 'fine@acme.example' } },
          { key: 'update', crmId: existing.id, fields: { Title: 'VP' } },
        ],
      });
      expect(results).toEqual([
        {
          key: 'typo',
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: "No such column 'Emial' on sobject of type Contact",
            field: 'Emial',
            crmCode: 'INVALID_FIELD',
          },
        },
        { key: 'fine', ok: true, created: true, crmId: expect.any(String) },
        { key: 'update', ok: true, created: false, crmId: existing.id },
      ]);

      // Salesforce refuses a whole request for a mistyped JSON value: only that call's records fail, with its words.
      const mistyped = await fresh.upsertBatch(session, {
        object: 'Contact',
        records: [
          {
            key: 'bad-type',
            fields: { LastName: 'Bad', Email: 'bad@acme.example', HasOptedOutOfEmail: 'maybe' },
          },
          { key: 'update', crmId: existing.id, fields: { Title: 'SVP' } },
        ],
      });
      expect(mistyped[0]).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, crmCode: 'JSON_PARSER_ERROR' },
      });
      expect(mistyped[1]).toEqual({ key: 'update', ok: true, created: false, crmId: existing.id });
      expect(sandbox.counters.count('GET /services/data/:version/sobjects/:type/describe')).toBe(1);
    });

    it('never duplicates a create whose connection dropped before Salesforce saw it (sandbox dropConnection fault)', async () => {
      sandbox.faults.dropConnection({ method: 'POST', path: '/services/data/:version/composite/sobjects' });
      const input = { key: 'ada', fields: { LastName: 'Lovelace', Email: 'ada@acme.example' } };
      const dropped = await failure(connector.upsertBatch(session, { object: 'Contact', records: [input] }));
      expect(dropped.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
      expect(sandbox.counters.count(CREATE)).toBe(1); // jsforce did not retry it by itself

      const [retried] = await connector.upsertBatch(session, { object: 'Contact', records: [input] });
      expect(retried).toMatchObject({ ok: true, created: true });
      const again = await connector.upsertBatch(session, { object: 'Contact', records: [input] });
      expect(again[0]).toMatchObject({ ok: true, created: false, crmId: retried.ok ? retried.crmId : '' });
      expect(sandbox.records('Contact')).toHaveLength(1);
    });

    it('never duplicates a create that Salesforce applied but whose answer was lost: the retry finds it by e-mail', async () => {
      const proxy = new LostResponseProxy(sandbox.baseUrl);
      await proxy.start();
      try {
        const viaProxy = { ...session, instanceUrl: proxy.baseUrl };
        proxy.loseNext('POST', /\/composite\/sobjects$/);
        const input = { key: 'grace', fields: { LastName: 'Hopper', Email: 'Grace@Acme.example' } };
        const lost = await failure(connector.upsertBatch(viaProxy, { object: 'Contact', records: [input] }));
        expect(lost.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
        expect(sandbox.records('Contact')).toHaveLength(1); // Salesforce did create it

        const [retried] = await connector.upsertBatch(viaProxy, { object: 'Contact', records: [input] });
        expect(retried).toEqual({
          key: 'grace',
          ok: true,
          created: false,
          crmId: sandbox.records('Contact')[0].id,
        });
        expect(sandbox.records('Contact')).toHaveLength(1);
        expect(sandbox.counters.count(CREATE)).toBe(1);
        expect(sandbox.counters.count(UPDATE)).toBe(1);
      } finally {
        await proxy.stop();
      }
    });

    it('creates a Lead after the e-mail lookup and matches it case-insensitively next time', async () => {
      const input = {
        key: 'lead',
        fields: { LastName: 'Lead', Company: 'Acme', Email: 'Lead@Acme.example' },
      };
      const [created] = await connector.upsertBatch(session, { object: 'Lead', records: [input] });
      expect(created).toMatchObject({ ok: true, created: true });
      const found = await connector.findByEmail(session, 'Lead', ['lead@acme.example']);
      expect(found.map((record) => record.id)).toEqual([created.ok ? created.crmId : '']);
      const [again] = await connector.upsertBatch(session, {
        object: 'Lead',
        records: [{ key: 'lead', fields: { LastName: 'Lead', Email: 'LEAD@acme.example' } }],
      });
      expect(again).toMatchObject({ ok: true, created: false, crmId: created.ok ? created.crmId : '' });
    });
  });

  describe('records by id and deletions', () => {
    it('gets records by id with one SOQL query per 200 ids, in the order asked; unknown, binned and foreign ids are absent', async () => {
      const contacts = sandbox.seedContacts(450, { timestamp: new Date('2026-03-02T10:00:00Z') });
      const [account] = sandbox.seedAccounts(1);
      const binned = contacts[7];
      sandbox.deleteInCrm('Contact', binned.id);
      const asked = contacts.map((contact) => contact.id).reverse();
      // One record asked for by its 15-character id, as older integrations store them.
      asked[asked.indexOf(contacts[3].id)] = contacts[3].id.slice(0, 15);
      asked.splice(100, 0, NEVER_EXISTED_CONTACT_ID, account.id, 'not-an-id');

      sandbox.counters.reset();
      const records = await connector.getRecords(session, { object: 'Contact', ids: asked });
      expect(records.map((record) => record.id)).toEqual(
        contacts
          .filter((contact) => contact.id !== binned.id)
          .map((contact) => contact.id)
          .reverse(),
      );
      // 451 ids that can be Contacts (the Account's and the malformed one are never sent): 200 + 200 + 51.
      expect(sandbox.counters.count(QUERY)).toBe(3);
      expect(sandbox.counters.snapshot().total).toBe(3);
      expect(observations).toHaveLength(3);
      const first = contacts[449];
      expect(records[0]).toEqual({
        id: first.id,
        object: 'Contact',
        modifiedAt: '2026-03-02T10:00:00.000Z',
        createdAt: '2026-03-02T10:00:00.000Z',
        fields: expect.objectContaining({
          Id: first.id,
          Email: first.fields.Email,
          LastName: first.fields.LastName,
          IsDeleted: false,
        }),
      });

      const [emailOnly] = await connector.getRecords(session, {
        object: 'Contact',
        ids: [first.id],
        fields: ['Email'],
      });
      expect(Object.keys(emailOnly.fields).sort()).toEqual(
        ['CreatedDate', 'Email', 'Id', 'IsDeleted', 'LastModifiedDate', 'SystemModstamp'].sort(),
      );
      const accounts = await connector.getRecords(session, {
        object: 'Account',
        ids: [account.id, first.id],
      });
      expect(accounts.map((record) => [record.id, record.fields.Name])).toEqual([
        [account.id, account.fields.Name],
      ]);

      sandbox.counters.reset();
      await expect(
        connector.getRecords(session, { object: 'Contact', ids: ['not-an-id', account.id] }),
      ).resolves.toEqual([]);
      expect(sandbox.counters.snapshot().total).toBe(0);
    });

    it('deletes in Collections calls of 200, one result per id in order: gone ids are ok, a refused record and a foreign id fail alone, readChanges reports the deletions', async () => {
      const stamp = '2026-03-02T10:00:00.000Z';
      const contacts = sandbox.seedContacts(252, { timestamp: new Date(stamp) });
      const [account] = sandbox.seedAccounts(1);
      const [alreadyDeleted, refused, ...deletable] = contacts;
      const cursor = {
        modifiedAt: stamp,
        lastId: contacts
          .map((contact) => contact.id)
          .sort(compareIds)
          .at(-1),
      };
      sandbox.clock.freeze();
      sandbox.clock.set('2026-03-02T11:00:00Z');
      sandbox.deleteInCrm('Contact', alreadyDeleted.id);
      sandbox.clock.set('2026-03-02T11:30:00Z');
      // An Apex trigger refusing the delete of this one contact (Salesforce's per-record DML error).
      sandbox.faults.recordErrors(
        { object: 'Contact', field: 'Email', equals: refused.fields.Email },
        { message: 'Contacts with open support cases cannot be deleted' },
      );
      const ids = [
        alreadyDeleted.id,
        ...deletable.map((contact) => contact.id),
        refused.id,
        account.id,
        NEVER_EXISTED_CONTACT_ID,
        'not-an-id',
      ];

      sandbox.counters.reset();
      const results = await connector.deleteRecords(session, { object: 'Contact', ids });
      sandbox.clock.reset();
      expect(results.map((result) => result.id)).toEqual(ids);
      expect(results.slice(0, 251)).toEqual(ids.slice(0, 251).map((id) => ({ id, ok: true })));
      expect(results.slice(251)).toEqual([
        {
          id: refused.id,
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: 'Contacts with open support cases cannot be deleted',
            crmCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          },
        },
        {
          id: account.id,
          ok: false,
          error: {
            code: CrmErrorCode.VALIDATION_FAILED,
            message: expect.stringContaining('is not a Contact id'),
          },
        },
        { id: NEVER_EXISTED_CONTACT_ID, ok: true },
        {
          id: 'not-an-id',
          ok: false,
          error: { code: CrmErrorCode.VALIDATION_FAILED, message: 'Not a Salesforce record id: "not-an-id"' },
        },
      ]);
      // 253 ids sent (the Account's and the malformed one are not): two calls of 200 and 53, nothing else.
      expect(sandbox.counters.count(DELETE)).toBe(2);
      expect(sandbox.counters.snapshot().total).toBe(2);
      expect(sandbox.records('Contact').map((record) => record.id)).toEqual([refused.id]);
      expect(sandbox.records('Account').map((record) => record.id)).toEqual([account.id]);

      const changes = await readAll(connector, session, 'Contact', cursor, 2_000);
      expect(changes.records).toEqual([]);
      expect(changes.deleted.map((entry) => entry.id).sort(compareIds)).toEqual(
        [alreadyDeleted, ...deletable].map((contact) => contact.id).sort(compareIds),
      );
      expect(changes.deleted.find((entry) => entry.id === alreadyDeleted.id)?.deletedAt).toBe(
        '2026-03-02T11:00:00.000Z',
      );
      expect(changes.deleted.find((entry) => entry.id === deletable[0].id)?.deletedAt).toBe(
        '2026-03-02T11:30:00.000Z',
      );

      // Deleting again (a retried run) is not an error: the recycle bin answers ENTITY_IS_DELETED.
      await expect(
        connector.deleteRecords(session, { object: 'Contact', ids: [deletable[0].id, deletable[0].id] }),
      ).resolves.toEqual([
        { id: deletable[0].id, ok: true },
        { id: deletable[0].id, ok: true },
      ]);
      expect(sandbox.counters.count(DELETE)).toBe(3);
    });

    it('throws a throttled or failed call as a whole without retrying it (RATE_LIMITED, CRM_UNAVAILABLE)', async () => {
      const [contact] = sandbox.seedContacts(1);
      sandbox.faults.rateLimitStorm(1, 3, {
        method: 'DELETE',
        path: '/services/data/:version/composite/sobjects',
      });
      const throttled = await failure(
        connector.deleteRecords(session, { object: 'Contact', ids: [contact.id] }),
      );
      expect(throttled).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, status: 429, retryAfterMs: 3_000 });
      expect(sandbox.counters.count(DELETE)).toBe(1);
      expect(sandbox.records('Contact')).toHaveLength(1);

      sandbox.faults.status(
        503,
        [{ message: 'Service unavailable', errorCode: 'SERVER_UNAVAILABLE' }],
        { 'content-type': 'application/json;charset=UTF-8' },
        { path: '/services/data/:version/query' },
      );
      const unavailable = await failure(
        connector.getRecords(session, { object: 'Contact', ids: [contact.id] }),
      );
      expect(unavailable).toMatchObject({ code: CrmErrorCode.CRM_UNAVAILABLE, status: 503 });
      expect(sandbox.counters.count(QUERY)).toBe(1);
    });
  });

  describe('errors and limits', () => {
    it('maps a 429 with Retry-After to RATE_LIMITED without jsforce retrying (GET and POST)', async () => {
      sandbox.faults.rateLimitStorm(1, 7, { method: 'GET', path: '/services/data/:version/queryAll' });
      const read = await failure(connector.readChanges(session, { object: 'Contact', since: null }));
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
      const write = await failure(
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
      const unavailable = await failure(connector.readChanges(session, { object: 'Contact', since: null }));
      expect(unavailable).toMatchObject({
        code: CrmErrorCode.CRM_UNAVAILABLE,
        status: 503,
        message: 'Service unavailable',
      });
      expect(sandbox.counters.count(QUERY_ALL)).toBe(1);

      sandbox.faults.dropConnection({ path: '/services/data/:version/queryAll' });
      const reset = await failure(connector.readChanges(session, { object: 'Contact', since: null }));
      expect(reset.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
      expect(sandbox.counters.count(QUERY_ALL)).toBe(2);

      const impatient = connectorFor(sandbox, { timeoutMs: 200 });
      sandbox.faults.hang(1_500, { path: '/services/data/:version/queryAll' });
      const started = Date.now();
      const slow = await failure(impatient.readChanges(session, { object: 'Contact', since: null }));
      expect(slow.code).toBe(CrmErrorCode.TIMEOUT);
      expect(Date.now() - started).toBeLessThan(1_400);
    });

    it('maps the used-up daily allocation (403 REQUEST_LIMIT_EXCEEDED) to QUOTA_EXHAUSTED and reports Sforce-Limit-Info', async () => {
      sandbox.rateLimiter.configure({ dailyLimit: 2, enforce: true }, true);
      await connector.readChanges(session, { object: 'Contact', since: null });
      expect(observations).toEqual([{ dailyLimit: 2, dailyRemaining: 1 }]);
      await connector.readChanges(session, { object: 'Contact', since: null });
      const exhausted = await failure(connector.readChanges(session, { object: 'Contact', since: null }));
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
      const expired = await failure(connector.describeObject(own, 'Contact'));
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
      const revoked = await failure(connector.refreshTokens(own.refreshToken as string));
      expect(revoked).toMatchObject({
        code: CrmErrorCode.AUTH_REVOKED,
        crmCode: 'invalid_grant',
        message: 'expired access/refresh token',
      });
      expect(revoked.message).not.toContain(own.refreshToken);
    });

    it('maps an unknown object to NOT_FOUND and an aborted call to ABORTED', async () => {
      const missing = await failure(connector.describeObject(session, 'Penguin__c'));
      expect(missing).toMatchObject({ code: CrmErrorCode.NOT_FOUND, status: 404 });
      const controller = new AbortController();
      controller.abort();
      const aborted = await failure(
        connector.readChanges({ ...session, signal: controller.signal }, { object: 'Contact', since: null }),
      );
      expect(aborted.code).toBe(CrmErrorCode.ABORTED);
    });
  });

  describe('describe, activities, webhooks', () => {
    it('describes standard and custom fields with type, required, read-only and picklist options', async () => {
      const fields = await connector.describeObject(session, 'Contact');
      const byName = new Map(fields.map((field) => [field.name, field]));
      expect(byName.get('Email')).toMatchObject({
        type: 'email',
        required: false,
        readOnly: false,
        custom: false,
      });
      expect(byName.get('LastName')).toMatchObject({ type: 'string', required: true, readOnly: false });
      expect(byName.get('SystemModstamp')).toMatchObject({
        type: 'datetime',
        readOnly: true,
        required: false,
      });
      expect(byName.get('PenguinMails_Id__c')).toMatchObject({ custom: true, type: 'string' });
      expect(byName.get('AccountId')).toMatchObject({ type: 'reference', crmType: 'reference' });
      expect(byName.get('LeadSource')?.options).toEqual(
        expect.arrayContaining([{ value: 'Web', label: 'Web' }]),
      );
    });

    const activityFor = (
      contact: CrmRecord,
      key: string,
      kind: ActivityInput['kind'] = 'email_sent',
    ): ActivityInput => ({
      key,
      kind,
      occurredAt: '2026-03-02T10:00:00.000Z',
      subject: 'Welcome aboard',
      bodyText: 'Hello from PenguinMails',
      from: 'team@penguinmails.example',
      to: [String(contact.fields.Email)],
      contact: { crmId: contact.id, object: 'Contact', email: String(contact.fields.Email) },
    });

    it('logs e-mail Tasks on the contact and never twice for one activity key (unique key field)', async () => {
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      const first = await connector.logActivities(session, [
        activityFor(contact, 'msg-1:sent'),
        activityFor(contact, 'msg-1:opened', 'email_opened'),
        activityFor(contact, 'msg-1:sent'),
      ]);
      expect(first.map((result) => result.ok)).toEqual([true, true, true]);
      expect(first[2]).toEqual(first[0]);
      const tasks = sandbox.records('Task');
      expect(tasks).toHaveLength(2);
      expect(tasks[0].fields).toMatchObject({
        WhoId: contact.id,
        TaskSubtype: 'Email',
        Type: 'Email',
        Status: 'Completed',
        ActivityDate: '2026-03-02',
        Subject: 'Email: Welcome aboard',
        [ACTIVITY_KEY_FIELD]: 'msg-1:sent',
      });
      expect(tasks[1].fields.Subject).toBe('Email opened: Welcome aboard');

      sandbox.counters.reset();
      const redelivered = await connector.logActivities(session, [activityFor(contact, 'msg-1:sent')]);
      expect(redelivered).toEqual([first[0]]);
      expect(sandbox.records('Task')).toHaveLength(2);
      expect(sandbox.counters.count(CREATE)).toBe(0);
    });

    it('answers two racing deliveries of one activity with one Task: the unique key refuses the second insert', async () => {
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      // Both lookups find nothing, then both inserts arrive: the sandbox holds each insert for 150 ms.
      sandbox.faults.latency(150, {
        method: 'POST',
        path: '/services/data/:version/composite/sobjects',
        times: 2,
      });
      const [first, second] = await Promise.all([
        connector.logActivities(session, [activityFor(contact, 'msg-race:sent')]),
        connector.logActivities(session, [activityFor(contact, 'msg-race:sent')]),
      ]);
      expect(sandbox.counters.count(CREATE)).toBe(2);
      expect(sandbox.records('Task')).toHaveLength(1);
      expect(first).toEqual([{ key: 'msg-race:sent', ok: true, crmId: sandbox.records('Task')[0].id }]);
      expect(second).toEqual(first);
    });

    it('logs an activity once when Salesforce saved the Task but the answer was lost', async () => {
      const proxy = new LostResponseProxy(sandbox.baseUrl);
      await proxy.start();
      try {
        const viaProxy = { ...session, instanceUrl: proxy.baseUrl };
        const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
        proxy.loseNext('POST', /\/composite\/sobjects$/);
        const lost = await failure(
          connector.logActivities(viaProxy, [activityFor(contact, 'msg-lost:sent')]),
        );
        expect(lost.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
        const [retried] = await connector.logActivities(viaProxy, [activityFor(contact, 'msg-lost:sent')]);
        expect(retried).toEqual({ key: 'msg-lost:sent', ok: true, crmId: sandbox.records('Task')[0].id });
        expect(sandbox.records('Task')).toHaveLength(1);
      } finally {
        await proxy.stop();
      }
    });

    it('without a key field, finds a redelivered activity by the key line in the Task description', async () => {
      const plain = connectorFor(sandbox, { activityKeyField: undefined });
      const [contact] = sandbox.seedContacts(1).map((record) => asCrmRecord(record));
      const [first] = await plain.logActivities(session, [activityFor(contact, 'msg-2:sent')]);
      const [again] = await plain.logActivities(session, [activityFor(contact, 'msg-2:sent')]);
      expect(again).toEqual(first);
      expect(sandbox.records('Task')).toHaveLength(1);
      expect(String(sandbox.records('Task')[0].fields.Description)).toMatch(
        /PenguinMails activity: msg-2:sent$/,
      );
      const [bad] = await plain.logActivities(session, [
        { ...activityFor(contact, 'msg-3'), contact: { crmId: 'nope', object: 'Contact', email: 'x@y.z' } },
      ]);
      expect(bad).toMatchObject({
        ok: false,
        error: { code: CrmErrorCode.VALIDATION_FAILED, field: 'WhoId' },
      });
    });

    it('declares no webhooks and refuses any webhook request', () => {
      expect(connector.capabilities().webhooks).toEqual({ supported: false, verification: 'none' });
      expect(() => connector.parseWebhook()).toThrow(
        expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
      );
    });
  });
});
