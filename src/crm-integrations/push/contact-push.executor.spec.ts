import { InMemoryRateBudget } from '@pm/connector-kit/testing';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '@pm/domain';
import { autoMock, IN_MEMORY_PROVIDER, InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import {
  InMemoryCursorStore,
  InMemoryLinkStore,
  InMemoryLocalContacts,
  InMemoryRetryStore,
  inMemoryMappings,
  inMemorySessions,
  MemorySyncLog,
} from '@pm/sync-engine/testing';
import type { ConnectionRepository } from '../repositories';
import type { RateBudgetFactory } from '../sync/rate-budget.factory';
import type { SyncLocks } from '../sync/sync-locks';
import type { SyncRuns } from '../sync/sync-runs';
import { aConnection } from '../testing/entities';
import { ContactPushExecutor } from './contact-push.executor';
import type { ContactPushQueue } from './contact-push.queue';

describe('ContactPushExecutor', () => {
  let queue: jest.Mocked<ContactPushQueue>;
  let connections: jest.Mocked<ConnectionRepository>;
  let runs: jest.Mocked<SyncRuns>;
  let locks: jest.Mocked<SyncLocks>;
  let budgets: jest.Mocked<RateBudgetFactory>;
  let crm: InMemoryCrm;
  let locals: InMemoryLocalContacts;
  let executor: ContactPushExecutor;

  const realtime = (extra: Partial<ConnectionSettings> = {}) =>
    ({
      ...DEFAULT_CONNECTION_SETTINGS,
      objects: ['contacts'],
      realtime: true,
      ...extra,
    }) as ConnectionSettings;

  beforeEach(() => {
    queue = autoMock<ContactPushQueue>('queue');
    connections = autoMock<ConnectionRepository>('connections');
    runs = autoMock<SyncRuns>('runs');
    locks = autoMock<SyncLocks>('locks');
    budgets = autoMock<RateBudgetFactory>('budgets');
    crm = new InMemoryCrm();
    const connector = new InMemoryConnector(crm);
    locals = new InMemoryLocalContacts();
    locks.withConnectionLock.mockImplementation(async (_id, work) => ({
      acquired: true,
      result: await work(new AbortController().signal),
    }));
    budgets.forAccount.mockImplementation((_key, policies) => new InMemoryRateBudget(policies));
    runs.whyNotRunnable.mockResolvedValue(null);
    executor = new ContactPushExecutor(
      queue,
      connections,
      runs,
      locks,
      budgets,
      new InMemoryLinkStore() as never,
      new InMemoryCursorStore() as never,
      new InMemoryRetryStore() as never,
      new MemorySyncLog() as never,
      locals as never,
      { [IN_MEMORY_PROVIDER]: connector },
      inMemorySessions(crm, connector),
      inMemoryMappings,
    );
  });

  it('pushes each connection\u2019s contacts in one run under its lock', async () => {
    connections.findById.mockResolvedValue(
      aConnection({ id: 'conn-1', provider: IN_MEMORY_PROVIDER, settings: realtime() }),
    );
    const a = locals.add('a@example.com', { firstName: 'A' });
    const b = locals.add('b@example.com', { firstName: 'B' });
    const results = await executor.handle([
      { connectionId: 'conn-1', tenantId: 'acme', contactId: a.id },
      { connectionId: 'conn-1', tenantId: 'acme', contactId: b.id },
    ]);
    expect(results).toEqual([
      expect.objectContaining({
        connectionId: 'conn-1',
        kind: 'pushed',
        outcome: expect.objectContaining({ status: 'succeeded' }),
      }),
    ]);
    expect(locks.withConnectionLock).toHaveBeenCalledTimes(1);
    expect(
      crm
        .listRecords('contacts')
        .map((record) => record.fields.email)
        .sort(),
    ).toEqual(['a@example.com', 'b@example.com']);
  });

  it('hands the jobs back for a little later while a sync holds the connection', async () => {
    locks.withConnectionLock.mockResolvedValue({ acquired: false });
    queue.handBack.mockResolvedValue();
    const jobs = [{ connectionId: 'conn-1', tenantId: 'acme', contactId: 'c1' }];
    expect(await executor.handle(jobs)).toEqual([{ connectionId: 'conn-1', kind: 'busy' }]);
    expect(queue.handBack).toHaveBeenCalledWith(jobs);
  });

  it('skips a connection that is no longer real-time (the scheduled sync carries the change)', async () => {
    connections.findById.mockResolvedValue(
      aConnection({
        id: 'conn-1',
        provider: IN_MEMORY_PROVIDER,
        settings: realtime({ realtime: false } as never),
      }),
    );
    const a = locals.add('a@example.com');
    expect(await executor.handle([{ connectionId: 'conn-1', tenantId: 'acme', contactId: a.id }])).toEqual([
      { connectionId: 'conn-1', kind: 'skipped' },
    ]);
    expect(crm.listRecords('contacts')).toHaveLength(0);
  });
});
