import type { RateBudget } from '@pm/connector-kit';
import type { CrmSession, IntegrationPort } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { rateLimitedPort } from './rate-limited-port';

describe('rateLimitedPort', () => {
  const crm = new InMemoryCrm();
  const connector = new InMemoryConnector(crm, { maxWriteBatch: 10 });
  const approval = crm.approveAuthorization(
    connector.buildAuthorizeUrl({ state: 's', redirectUri: 'http://app/cb' }),
  );
  const tokens = crm.exchangeCode({ code: approval.code, redirectUri: approval.redirectUri });

  function recordingBudget() {
    const calls: { cost: number; priority: string }[] = [];
    const reports: unknown[] = [];
    const budget: RateBudget = {
      acquire: async (cost, priority) => void calls.push({ cost, priority }),
      report: async (state) => void reports.push(state),
    };
    return { budget, calls, reports };
  }

  it('takes each CRM call from the budget before making it, at the given priority', async () => {
    const { budget, calls } = recordingBudget();
    const port = rateLimitedPort(connector, budget, 'interactive');
    const session: CrmSession = { connectionId: 'c1', accessToken: tokens.accessToken };
    await port.readChanges(session, { object: 'contacts', since: null });
    await port.upsertBatch(session, {
      object: 'contacts',
      records: [1, 2, 3].map((i) => ({ key: `k${i}`, fields: { email: `p${i}@example.com` } })),
    });
    // One read request, and three records in one batch request.
    expect(calls).toEqual([
      { cost: 1, priority: 'interactive' },
      { cost: 1, priority: 'interactive' },
    ]);
  });

  it('charges one request per record where the CRM has no batch endpoint', async () => {
    const { budget, calls } = recordingBudget();
    const perRecord: IntegrationPort = Object.create(connector, {
      capabilities: { value: () => ({ ...connector.capabilities(), writeRecordsPerRequest: 1 }) },
    });
    const port = rateLimitedPort(perRecord, budget, 'background');
    const session: CrmSession = { connectionId: 'c1', accessToken: tokens.accessToken };
    await port.upsertBatch(session, {
      object: 'contacts',
      records: [1, 2, 3].map((i) => ({ key: `k${i}`, fields: { email: `q${i}@example.com` } })),
    });
    expect(calls).toEqual([{ cost: 3, priority: 'background' }]);
  });

  it('charges an upsert what its records ask where the connector declares it (a matched create is one request)', async () => {
    const { budget, calls } = recordingBudget();
    const pipedriveLike: IntegrationPort = Object.create(connector, {
      capabilities: {
        value: () => ({
          ...connector.capabilities(),
          writeRecordsPerRequest: 1,
          requestCounts: {
            upsertBatch: {
              requestsPerItem: 2,
              perUpsert: { update: 1, create: 2, matchedCreate: 1, updatesPerRead: 4 },
            },
          },
        }),
      },
    });
    const port = rateLimitedPort(pipedriveLike, budget, 'background');
    const session: CrmSession = { connectionId: 'c1', accessToken: tokens.accessToken };
    const creates = [1, 2, 3].map((i) => ({ key: `m${i}`, fields: { email: `m${i}@example.com` } }));
    const [made] = await port.upsertBatch(session, {
      object: 'contacts',
      records: creates,
      createsMatched: true,
    });
    await port.upsertBatch(session, {
      object: 'contacts',
      records: [1, 2].map((i) => ({ key: `u${i}`, fields: { email: `u${i}@example.com` } })),
    });
    const madeId = made.ok ? made.crmId : 'none';
    await port.upsertBatch(session, {
      object: 'contacts',
      records: [{ key: 'x', crmId: madeId, fields: { firstname: 'X' } }],
      createsMatched: true,
    });
    await port.upsertBatch(session, {
      object: 'contacts',
      records: [
        ...Array.from({ length: 9 }, (_, i) => ({
          key: `v${i}`,
          crmId: madeId,
          fields: { firstname: `V${i}` },
        })),
        { key: 'c', fields: { email: 'c@example.com' } },
      ],
      createsMatched: true,
    });
    // Three matched creates: 3 requests; two creates that search first: 4; one update and the read of what it
    // merges into: 2; nine updates, their reads (4 a request: 3) and a matched create: 13.
    expect(calls.map((call) => call.cost)).toEqual([3, 4, 2, 13]);
  });

  it('grants writes sent one request after another in slices of an eighth of the largest grant, so none holds the window long after the CRM let it go', async () => {
    const calls: number[] = [];
    const budget: RateBudget = {
      acquire: async (cost) => void calls.push(cost),
      report: async () => undefined,
      // Pipedrive's 80 requests per 2 s.
      largestGrant: () => 80,
    };
    const pipedriveLike: IntegrationPort = Object.create(connector, {
      capabilities: {
        value: () => ({
          ...connector.capabilities(),
          maxWriteBatch: 100,
          writeRecordsPerRequest: 1,
          requestCounts: {
            upsertBatch: { requestsPerItem: 2, perUpsert: { update: 2, create: 2, matchedCreate: 1 } },
          },
        }),
      },
    });
    const port = rateLimitedPort(pipedriveLike, budget, 'interactive');
    const records = Array.from({ length: 23 }, (_, i) => ({
      key: `s${i}`,
      fields: { email: `serial${i}@example.com` },
    }));
    const results = await port.upsertBatch(
      { connectionId: 'c1', accessToken: tokens.accessToken },
      { object: 'contacts', records, createsMatched: true },
    );
    expect(results.filter((result) => result.ok)).toHaveLength(23);
    // At most 10 requests a grant (5 records of up to 2 each): matched creates are charged 1 each.
    expect(calls).toEqual([5, 5, 5, 5, 3]);
  });

  it('splits a look-up too large for one grant into calls that each fit, charging what the CRM counts', async () => {
    const calls: { cost: number; operation?: string }[] = [];
    const budget: RateBudget = {
      acquire: async (cost, _priority, options) => void calls.push({ cost, operation: options?.operation }),
      report: async () => undefined,
      largestGrant: () => 60,
    };
    const searchPerEmail: IntegrationPort = Object.create(connector, {
      capabilities: {
        value: () => ({
          ...connector.capabilities(),
          requestCounts: { findByEmail: { requestsPerItem: 1, itemsPerRequest: 100 } },
        }),
      },
    });
    const port = rateLimitedPort(searchPerEmail, budget, 'background');
    const emails = Array.from({ length: 100 }, (_, i) => `look${i}@example.com`);
    await port.findByEmail({ connectionId: 'c1', accessToken: tokens.accessToken }, 'contacts', emails);
    // 59 searches and one read of the matches fit in 60; the other 41 searches and their read follow.
    expect(calls).toEqual([
      { cost: 60, operation: 'findByEmail' },
      { cost: 42, operation: 'findByEmail' },
    ]);
  });

  it('splits a look-up by another field as the connector counts it, and finds each record once', async () => {
    const calls: { cost: number; operation?: string }[] = [];
    const budget: RateBudget = {
      acquire: async (cost, _priority, options) => void calls.push({ cost, operation: options?.operation }),
      report: async () => undefined,
      largestGrant: () => 50,
    };
    const searchPerValue: IntegrationPort = Object.create(connector, {
      capabilities: {
        value: () => ({
          ...connector.capabilities(),
          requestCounts: { findByField: { requestsPerItem: 1, itemsPerRequest: 100 } },
        }),
      },
    });
    const keyed = crm.createRecord('contacts', { email: 'keyed@example.com', external_id: 'ext-7' });
    const port = rateLimitedPort(searchPerValue, budget, 'background');
    // ext-7 is asked in both slices; the record holding it comes back once.
    const values = [...Array.from({ length: 60 }, (_, i) => `ext-nobody-${i}`), 'ext-7'];
    values.splice(10, 0, 'ext-7');
    const found = await port.findByField(
      { connectionId: 'c1', accessToken: tokens.accessToken },
      { object: 'contacts', field: 'external_id', values },
    );
    // 62 values: 49 searches and a read fit in 50; the other 13 and their read follow.
    expect(calls).toEqual([
      { cost: 50, operation: 'findByField' },
      { cost: 14, operation: 'findByField' },
    ]);
    expect(found.map((record) => record.id)).toEqual([keyed.id]);
  });

  it('splits a company look-up too large for one grant, and finds each company once', async () => {
    const calls: { cost: number; operation?: string }[] = [];
    const budget: RateBudget = {
      acquire: async (cost, _priority, options) => void calls.push({ cost, operation: options?.operation }),
      report: async () => undefined,
      largestGrant: () => 30,
    };
    const searchPerName: IntegrationPort = Object.create(connector, {
      capabilities: {
        value: () => ({
          ...connector.capabilities(),
          requestCounts: { findCompanies: { requestsPerItem: 1, itemsPerRequest: 100 } },
        }),
      },
    });
    const acme = crm.createRecord('companies', { name: 'Acme', domain: 'acme.example' });
    const port = rateLimitedPort(searchPerName, budget, 'background');
    const names = ['Acme', ...Array.from({ length: 39 }, (_, i) => `Nobody ${i}`)];
    const found = await port.findCompanies(
      { connectionId: 'c1', accessToken: tokens.accessToken },
      { object: 'companies', names, domains: ['acme.example'] },
    );
    // 41 terms: 29 searches and a read fit in 30; the other 12 and their read follow. Acme matched twice, once kept.
    expect(calls).toEqual([
      { cost: 30, operation: 'findCompanies' },
      { cost: 13, operation: 'findCompanies' },
    ]);
    expect(found.map((record) => record.id)).toEqual([acme.id]);
  });

  it("lets the run's signal reach the budget's wait and the CRM call, though the session carries none", async () => {
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const budget: RateBudget = {
      acquire: async (_cost, _priority, options) => void seen.push(options?.signal),
      report: async () => undefined,
    };
    const observing: IntegrationPort = Object.create(connector, {
      describeObject: {
        value: async (session: CrmSession) => {
          seen.push(session.signal);
          return [];
        },
      },
    });
    const port = rateLimitedPort(observing, budget, 'background', { signal: controller.signal });
    await port.describeObject({ connectionId: 'c1', accessToken: 'x' }, 'contacts');
    expect(seen).toEqual([controller.signal, controller.signal]);
  });

  it("reports what the CRM's headers said back to the budget, and still to the caller", async () => {
    const { budget, reports } = recordingBudget();
    const seen: unknown[] = [];
    const reporting: IntegrationPort = Object.create(connector, {
      describeObject: {
        value: async (session: CrmSession) => {
          session.onRateLimit?.({ windowLimit: 100, windowRemaining: 42 });
          return [];
        },
      },
    });
    const port = rateLimitedPort(reporting, budget, 'background');
    await port.describeObject(
      { connectionId: 'c1', accessToken: 'x', onRateLimit: (o) => seen.push(o) },
      'contacts',
    );
    expect(reports).toEqual([{ windowLimit: 100, windowRemaining: 42 }]);
    expect(seen).toEqual([{ windowLimit: 100, windowRemaining: 42 }]);
  });
});
