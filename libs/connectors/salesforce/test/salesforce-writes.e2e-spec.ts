import { CrmErrorCode, type CrmSession, type RateLimitObservation } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { LostResponseProxy } from './lost-response-proxy';
import { connect, connectorFor, startSalesforceSandbox } from '../src/testing';

const QUERY = 'GET /services/data/:version/query';
const CREATE = 'POST /services/data/:version/composite/sobjects';
const UPDATE = 'PATCH /services/data/:version/composite/sobjects';

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

  describe('writing', () => {
    it('sends the calls of one big upsertBatch one at a time, and creates the caller matched (createsMatched) without a look-up', async () => {
      const existing = sandbox.seedContacts(100);
      const inputs = [
        ...existing.map((contact, index) => ({
          key: `update-${index}`,
          crmId: contact.id,
          fields: { Title: `Title ${index}` },
        })),
        ...Array.from({ length: 100 }, (_, index) => ({
          key: `create-${index}`,
          fields: { LastName: `Matched ${index}`, Email: `matched-${index}@acme.example` },
        })),
      ];
      await connector.describeObject(session, 'Contact');
      // Latency on every call, so that calls sent together would overlap at the sandbox.
      sandbox.faults.latency(20, { times: Number.POSITIVE_INFINITY });
      sandbox.counters.reset();
      const results = await connector.upsertBatch(session, {
        object: 'Contact',
        records: inputs,
        createsMatched: true,
      });
      expect(results.filter((result) => !result.ok)).toEqual([]);
      expect(results.filter((result) => result.ok && result.created)).toHaveLength(100);
      expect(sandbox.counters.count(QUERY)).toBe(0);
      expect(sandbox.counters.count(UPDATE)).toBe(1);
      expect(sandbox.counters.count(CREATE)).toBe(1);
      expect(sandbox.counters.maxInFlight()).toBe(1);
    });

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
      const tooMany = await crmFailure(
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
      const dropped = await crmFailure(
        connector.upsertBatch(session, { object: 'Contact', records: [input] }),
      );
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
        const lost = await crmFailure(
          connector.upsertBatch(viaProxy, { object: 'Contact', records: [input] }),
        );
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
});
