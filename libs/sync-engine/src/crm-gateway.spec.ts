import { DEFAULT_RETRY_POLICY } from '@pm/connector-kit';
import type { IntegrationPort } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import { CrmGateway } from './crm-gateway';
import { inMemorySessions } from './testing';

/** The connector, with each call counted while in flight; a call yields once before it starts, so others can start. */
function trackingPort(connector: InMemoryConnector) {
  const seen = { inFlight: 0, peak: 0, calls: 0 };
  const tracked =
    (method: 'upsertBatch' | 'findByEmail' | 'findByField' | 'readChanges') =>
    async (...args: unknown[]) => {
      seen.calls++;
      seen.inFlight++;
      seen.peak = Math.max(seen.peak, seen.inFlight);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return await (connector[method] as (...a: unknown[]) => Promise<unknown>).apply(connector, args);
      } finally {
        seen.inFlight--;
      }
    };
  const port = Object.assign(Object.create(connector) as IntegrationPort, {
    upsertBatch: tracked('upsertBatch'),
    findByEmail: tracked('findByEmail'),
    findByField: tracked('findByField'),
    readChanges: tracked('readChanges'),
  });
  return { port, seen };
}

describe('CrmGateway', () => {
  it('keeps the connection at most at maxConcurrency calls in flight, whatever runs at once', async () => {
    const crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm, { maxWriteBatch: 3 });
    for (let i = 0; i < 30; i++) {
      crm.createRecord('contacts', { email: `crm${i}@example.com`, external_id: `ext${i % 10}` });
    }
    const { port, seen } = trackingPort(connector);
    const gateway = await CrmGateway.open(port, inMemorySessions(crm, connector), 'connection-1', {
      retryPolicy: DEFAULT_RETRY_POLICY,
      sleep: async () => undefined,
      findByEmailChunk: 10,
    });
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      key: `k${i}`,
      fields: { email: `new${i}@example.com` },
    }));
    const emails = Array.from({ length: 200 }, (_, i) => `crm${i}@example.com`);

    const read = async () => {
      const pages = [];
      for await (const page of gateway.changePages({ object: 'contacts', since: null, pageSize: 5 })) {
        pages.push(page);
      }
      return pages;
    };
    const keys = Array.from({ length: 50 }, (_, i) => `ext${i}`);
    const [written, found, keyed, pages] = await Promise.all([
      gateway.upsert('contacts', inputs, { createsMatched: true }),
      gateway.findByEmail('contacts', emails),
      gateway.findByField('contacts', 'external_id', keys),
      read(),
    ]);

    expect(written.size).toBe(40);
    expect(found).toHaveLength(30);
    // Three contacts hold each of ext0 … ext9; the other 40 keys match nothing.
    expect(keyed).toHaveLength(30);
    expect(pages.flatMap((page) => page.records).length).toBeGreaterThanOrEqual(30);
    // 14 write batches, 20 + 5 look-ups and the pages, all at once: never more than the connector's 4 in flight.
    expect(connector.capabilities().maxConcurrency).toBe(4);
    expect(gateway.maxInFlight).toBe(4);
    expect(seen.calls).toBeGreaterThan(39);
    expect(seen.peak).toBe(4);
  });
});
