import { DEFAULT_RETRY_POLICY } from '@pm/connector-kit';
import type { IntegrationPort, ReadAssociationsRequest, ReadChangesRequest } from '@pm/integration-port';
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

  it('reads associations for several pages at once, where the connector reads them with requests of their own', async () => {
    const crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm, { maxReadPage: 10 });
    const ids = Array.from(
      { length: 27 },
      (_, i) => crm.createRecord('contacts', { email: `a${i}@example.com` }).id,
    );
    const reads: { toObject: string; ids: string[] }[] = [];
    const asked: (string[] | undefined)[] = [];
    // A connector like HubSpot's: pages carry no associations; they are read 12 ids a request.
    const port = Object.assign(Object.create(connector) as IntegrationPort, {
      capabilities: () => ({ ...connector.capabilities(), maxAssociationRead: 12 }),
      readChanges: (session: never, request: ReadChangesRequest) => {
        asked.push(request.associations);
        return connector.readChanges(session, request);
      },
      readAssociations: async (_session: never, request: ReadAssociationsRequest) => {
        reads.push({ toObject: request.toObject, ids: request.ids });
        return Object.fromEntries(request.ids.map((id) => [id, [`company-of-${id}`]]));
      },
    });
    const gateway = await CrmGateway.open(port, inMemorySessions(crm, connector), 'connection-1', {
      retryPolicy: DEFAULT_RETRY_POLICY,
      sleep: async () => undefined,
      findByEmailChunk: 10,
    });

    const pages = [];
    for await (const page of gateway.changePages({ object: 'contacts', since: null, pageSize: 4 }, [
      'companies',
    ])) {
      pages.push(page);
    }

    // Seven pages of at most 4: pages are held while one more could still fit in a read of 12.
    expect(pages.map((page) => page.records.length)).toEqual([4, 4, 4, 4, 4, 4, 3]);
    expect(reads.map((read) => read.ids.length)).toEqual([12, 12, 3]);
    expect(asked.every((associations) => associations?.length === 0)).toBe(true);
    const records = pages.flatMap((page) => page.records);
    expect(records.map((record) => record.id).sort()).toEqual([...ids].sort());
    for (const record of records)
      expect(record.associations).toEqual({ companies: [`company-of-${record.id}`] });

    // A read whose mapping uses no associated value reads none.
    reads.length = 0;
    for await (const page of gateway.changePages({ object: 'contacts', since: null, pageSize: 4 }, [])) {
      expect(page.records.every((record) => record.associations === undefined)).toBe(true);
    }
    expect(reads).toEqual([]);

    // Records the caller needs no associations for (unchanged since they synced) are left out of the reads.
    const wanted = new Set(ids.slice(0, 5));
    const handed = [];
    for await (const page of gateway.changePages(
      { object: 'contacts', since: null, pageSize: 4 },
      ['companies'],
      { needing: async (records) => records.filter((record) => wanted.has(record.id)) },
    )) {
      handed.push(...page.records);
    }
    expect(reads.flatMap((read) => read.ids).sort()).toEqual([...wanted].sort());
    expect(handed).toHaveLength(27);
    expect(
      handed
        .filter((record) => record.associations !== undefined)
        .map((record) => record.id)
        .sort(),
    ).toEqual([...wanted].sort());
  });
});
