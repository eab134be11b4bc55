import { Logger } from '@nestjs/common';
import { InMemoryRateBudget } from '@pm/connector-kit/testing';
import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { autoMock, IN_MEMORY_PROVIDER, InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import type { SessionProvider } from '@pm/sync-engine';
import {
  InMemoryCursorStore,
  InMemoryLinkStore,
  InMemoryLocalCompanies,
  InMemoryLocalContacts,
  InMemoryRetryStore,
  inMemoryMappings,
  inMemorySessions,
  MemorySyncLog,
} from '@pm/sync-engine/testing';
import type { ConnectionRepository, SyncRunRepository } from '../repositories';
import { aConnection, aRun } from '../testing/entities';
import type { RateBudgetFactory } from './rate-budget.factory';
import { SyncExecutor } from './sync-executor';
import type { SyncLocks } from './sync-locks';
import type { SyncQueue } from './sync-queue';
import type { SyncRuns } from './sync-runs';

const job = { connectionId: 'conn-1', tenantId: 'acme', runId: 'run-1' };

describe('SyncExecutor', () => {
  let runs: jest.Mocked<SyncRuns>;
  let runRepository: jest.Mocked<SyncRunRepository>;
  let connections: jest.Mocked<ConnectionRepository>;
  let locks: jest.Mocked<SyncLocks>;
  let queue: jest.Mocked<SyncQueue>;
  let budgets: jest.Mocked<RateBudgetFactory>;
  let crm: InMemoryCrm;
  let connector: InMemoryConnector;

  /** The executor on auto-mocked repositories, with the engine's in-memory stores and an in-memory CRM. */
  function executor(sessions?: SessionProvider): SyncExecutor {
    return new SyncExecutor(
      runs,
      runRepository,
      connections,
      locks,
      queue,
      budgets,
      new InMemoryLinkStore() as never,
      new InMemoryCursorStore() as never,
      new InMemoryRetryStore() as never,
      new MemorySyncLog() as never,
      new InMemoryLocalContacts() as never,
      new InMemoryLocalCompanies(new InMemoryLocalContacts()) as never,
      { [IN_MEMORY_PROVIDER]: connector },
      sessions ?? inMemorySessions(crm, connector),
      inMemoryMappings,
      { busyRetryMs: 15_000 },
    );
  }

  beforeEach(() => {
    runs = autoMock<SyncRuns>('runs');
    runRepository = autoMock<SyncRunRepository>('runRepository');
    connections = autoMock<ConnectionRepository>('connections');
    locks = autoMock<SyncLocks>('locks');
    queue = autoMock<SyncQueue>('queue');
    budgets = autoMock<RateBudgetFactory>('budgets');
    crm = new InMemoryCrm();
    connector = new InMemoryConnector(crm);
    locks.withConnectionLock.mockImplementation(async (_id, work) => ({
      acquired: true,
      result: await work(new AbortController().signal),
    }));
    budgets.forAccount.mockImplementation((_key, policies) => new InMemoryRateBudget(policies));
    connections.findById.mockResolvedValue(
      aConnection({
        id: 'conn-1',
        provider: IN_MEMORY_PROVIDER,
        settings: { ...aConnection().settings, objects: ['contacts'] },
      }),
    );
    runRepository.saveForJob.mockImplementation(async (_job, changes) =>
      aRun({ id: 'run-1', trigger: 'scheduled', ...changes }),
    );
    runRepository.recordOutcome.mockResolvedValue();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('hands the job back for later when another worker is syncing the connection', async () => {
    locks.withConnectionLock.mockResolvedValue({ acquired: false });
    runRepository.findById.mockResolvedValue(aRun({ id: 'run-1', status: 'queued' }));
    queue.enqueue.mockResolvedValue('job-2');
    const before = Date.now();
    expect(await executor().execute(job)).toBe('busy');
    const [requeued, options] = queue.enqueue.mock.calls[0];
    expect(requeued).toBe(job);
    expect(options?.startAfter?.getTime()).toBeGreaterThanOrEqual(before + 15_000);
  });

  it('cancels the handed-back run when a follow-up is already queued', async () => {
    locks.withConnectionLock.mockResolvedValue({ acquired: false });
    runRepository.findById.mockResolvedValue(aRun({ id: 'run-1', status: 'queued' }));
    queue.enqueue.mockResolvedValue(null);
    runRepository.update.mockResolvedValue(true);
    expect(await executor().execute(job)).toBe('busy');
    expect(runRepository.update).toHaveBeenCalledWith('run-1', {
      status: 'cancelled',
      error: 'another run of this connection was already queued',
      finishedAt: expect.any(Date),
    });
  });

  it('does not run a connection that may not sync, and says why on the run', async () => {
    runs.whyNotRunnable.mockResolvedValue('the tenant is inactive');
    expect(await executor().execute(job)).toBe('skipped');
    expect(runRepository.saveForJob).toHaveBeenCalledWith(job, {
      status: 'cancelled',
      finishedAt: expect.any(Date),
      error: 'Not run: the tenant is inactive',
    });
    expect(budgets.forAccount).not.toHaveBeenCalled();
  });

  it('records a successful run: counts, last sync time, next time due by frequency, health unchanged', async () => {
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.transientFailureStreak.mockResolvedValue(0);
    crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    expect(await executor().execute(job)).toBe('ran');
    expect(budgets.forAccount).toHaveBeenCalledWith(`${IN_MEMORY_PROVIDER}:account-1`, expect.any(Array), {
      whenDailyExhausted: 'signal',
    });
    const recorded = runRepository.recordOutcome.mock.calls[0][0];
    expect(recorded.run).toMatchObject({
      status: 'succeeded',
      error: null,
      counts: { from_crm: { contacts: expect.objectContaining({ created: 1, errors: 0 }) } },
    });
    expect(recorded.connection.lastSyncAt).toEqual(runRepository.saveForJob.mock.calls[0][1].startedAt);
    expect(recorded.connection.nextSyncAt!.getTime() - recorded.connection.lastSyncAt!.getTime()).toBe(
      15 * 60_000,
    );
    expect(recorded.connection.health).toBeUndefined();
    expect(recorded.statusLine).toBeUndefined();
  });

  it('a job fetched after shutdown began stops at once, applying nothing, and says why on the run', async () => {
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.transientFailureStreak.mockResolvedValue(0);
    crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    const stopping = executor();
    stopping.beforeApplicationShutdown();
    expect(await stopping.execute(job)).toBe('ran');
    const recorded = runRepository.recordOutcome.mock.calls[0][0];
    expect(recorded.run.status).not.toBe('succeeded');
    expect(recorded.run.error).toContain('the worker is shutting down');
    // Nothing read or applied: no page was begun.
    expect(recorded.run.counts).toEqual({});
  });

  it('a run whose lock was lost before it began stops at once, applying nothing', async () => {
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.transientFailureStreak.mockResolvedValue(0);
    crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    const lost = new AbortController();
    lost.abort(new Error('the database session holding the sync lock ended (terminated)'));
    locks.withConnectionLock.mockImplementation(async (_id, work) => ({
      acquired: true,
      result: await work(lost.signal),
    }));
    expect(await executor().execute(job)).toBe('ran');
    const recorded = runRepository.recordOutcome.mock.calls[0][0];
    expect(recorded.run.error).toContain('Stopped: the database session holding the sync lock ended');
    expect(recorded.run.counts).toEqual({});
  });

  it('runs a reconcile run through the reconcile engine: its drift is recorded and the sync schedule is left alone', async () => {
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.transientFailureStreak.mockResolvedValue(0);
    runRepository.saveForJob.mockImplementation(async (_job, changes) =>
      aRun({ id: 'run-1', trigger: 'reconcile', ...changes }),
    );
    crm.createRecord('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    expect(await executor().execute(job)).toBe('ran');
    const recorded = runRepository.recordOutcome.mock.calls[0][0];
    expect(recorded.run).toMatchObject({
      status: 'succeeded',
      drift: { contacts: expect.objectContaining({ crmRecords: 1, localContacts: 0, missingInCrm: 0 }) },
    });
    expect(recorded.connection.lastSyncAt).toBeUndefined();
    expect(recorded.connection.nextSyncAt).toBeUndefined();
  });

  it('hands a busy reconcile back into its own queue slot', async () => {
    locks.withConnectionLock.mockResolvedValue({ acquired: false });
    runRepository.findById.mockResolvedValue(aRun({ id: 'run-1', status: 'queued', trigger: 'reconcile' }));
    queue.enqueue.mockResolvedValue('job-3');
    expect(await executor().execute(job)).toBe('busy');
    expect(queue.enqueue.mock.calls[0][1]).toMatchObject({ singletonKey: 'conn-1:reconcile' });
  });

  it('a third transient failure in a row degrades the connection, logs it, and backs off', async () => {
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.transientFailureStreak.mockResolvedValue(2);
    const unavailable = new CrmError(CrmErrorCode.CRM_UNAVAILABLE, 'The CRM answered 503');
    const before = Date.now();
    await executor({
      getSession: async () => Promise.reject(unavailable),
      refreshSession: async () => Promise.reject(unavailable),
    }).execute(job);
    const recorded = runRepository.recordOutcome.mock.calls[0][0];
    expect(recorded.run.status).toBe('failed');
    expect(recorded.run.error).toMatch(/^transient: CRM_UNAVAILABLE: The CRM answered 503/);
    expect(recorded.connection).toMatchObject({
      health: 'degraded',
      healthReason: expect.stringContaining('3 runs in a row failed'),
    });
    expect(recorded.statusLine?.message).toMatch(/^Connection degraded: 3 runs in a row failed/);
    // 1 minute doubled per earlier failure: the fourth attempt comes 4 minutes later.
    const wait = recorded.connection.nextSyncAt!.getTime() - before;
    expect(wait).toBeGreaterThanOrEqual(4 * 60_000);
    expect(wait).toBeLessThan(4 * 60_000 + 10_000);
  });
});
