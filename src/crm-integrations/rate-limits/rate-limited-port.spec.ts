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
