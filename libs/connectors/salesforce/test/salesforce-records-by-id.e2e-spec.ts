import { collectChangePages } from '@pm/connector-kit/testing';
import { compareIds } from '@pm/connector-kit';
import { CrmErrorCode, type CrmSession, type RateLimitObservation } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { connect, connectorFor, startSalesforceSandbox } from '../src/testing';

const QUERY = 'GET /services/data/:version/query';
const DELETE = 'DELETE /services/data/:version/composite/sobjects';
/** A well-formed Contact id (key prefix 003) that no record of the sandbox has. */
const NEVER_EXISTED_CONTACT_ID = '0038d0000ZZZZZZ';

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
      const throttled = await crmFailure(
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
      const unavailable = await crmFailure(
        connector.getRecords(session, { object: 'Contact', ids: [contact.id] }),
      );
      expect(unavailable).toMatchObject({ code: CrmErrorCode.CRM_UNAVAILABLE, status: 503 });
      expect(sandbox.counters.count(QUERY)).toBe(1);
    });
  });
});
