import type { CrmConnection } from '@pm/domain';
import { autoMock } from '@pm/integration-port/testing';
import type {
  ChangeHintRepository,
  ConnectionRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
  SyncRunRepository,
} from '../repositories';
import type { LocalCompanyStoreAdapter } from '../sync/local-company-store';
import type { LocalContactStoreAdapter } from '../sync/local-contact-store';
import type { RateBudgetFactory } from '../sync/rate-budget.factory';
import type { SyncLocks } from '../sync/sync-locks';
import type { SyncRuns } from '../sync/sync-runs';
import type { ChangeHintQueue } from './change-hint-queue';
import { TargetedSyncExecutor } from './targeted-sync.executor';

const NOW = new Date('2026-12-06T10:00:00.000Z');
const HINT = {
  id: 'h1',
  object: 'contacts',
  crmId: '5',
  action: 'updated',
  occurredAt: new Date('2026-12-06T09:59:59.000Z'),
};

function aConnection(realtime: boolean): CrmConnection {
  return {
    id: 'c1',
    provider: 'hubspot',
    status: 'connected',
    tenant: { id: 't1' },
    settings: { realtime },
  } as unknown as CrmConnection;
}

describe('TargetedSyncExecutor', () => {
  function setup() {
    const hints = autoMock<ChangeHintRepository>('ChangeHintRepository');
    const queue = autoMock<ChangeHintQueue>('ChangeHintQueue');
    const connections = autoMock<ConnectionRepository>('ConnectionRepository');
    const runs = autoMock<SyncRuns>('SyncRuns');
    const locks = autoMock<SyncLocks>('SyncLocks');
    const executor = new TargetedSyncExecutor(
      hints,
      queue,
      connections,
      runs,
      autoMock<SyncRunRepository>('SyncRunRepository'),
      locks,
      autoMock<RateBudgetFactory>('RateBudgetFactory'),
      autoMock<RecordLinkRepository>('RecordLinkRepository'),
      autoMock<SyncCursorRepository>('SyncCursorRepository'),
      autoMock<SyncRetryRepository>('SyncRetryRepository'),
      autoMock<SyncLogRepository>('SyncLogRepository'),
      autoMock<LocalContactStoreAdapter>('LocalContactStoreAdapter'),
      autoMock<LocalCompanyStoreAdapter>('LocalCompanyStoreAdapter'),
      { now: () => NOW, busyRetryMs: 2_000 },
    );
    return { hints, queue, connections, runs, locks, executor };
  }

  it('has nothing to do for a removed connection or one with no waiting hints', async () => {
    const { connections, hints, executor } = setup();
    connections.findById.mockResolvedValueOnce(null);
    expect(await executor.process('c1')).toBe('nothing');
    connections.findById.mockResolvedValueOnce(aConnection(true));
    hints.pending.mockResolvedValueOnce([]);
    expect(await executor.process('c1')).toBe('nothing');
  });

  it('drops the hints of a connection with real-time off (the scheduled sync reads those changes anyway)', async () => {
    const { connections, hints, executor } = setup();
    connections.findById.mockResolvedValue(aConnection(false));
    hints.pending.mockResolvedValue([HINT]);
    hints.markApplied.mockResolvedValue();
    expect(await executor.process('c1')).toBe('ignored');
    expect(hints.markApplied).toHaveBeenCalledWith(['h1'], 'ignored', NOW);
  });

  it('drops the hints of a connection that cannot sync now', async () => {
    const { connections, hints, runs, executor } = setup();
    connections.findById.mockResolvedValue(aConnection(true));
    hints.pending.mockResolvedValue([HINT]);
    runs.whyNotRunnable.mockResolvedValue('the connection is needs_reconnect');
    hints.markApplied.mockResolvedValue();
    expect(await executor.process('c1')).toBe('ignored');
  });

  it('comes back later, keeping the hints, while a scheduled run holds the connection', async () => {
    const { connections, hints, runs, locks, queue, executor } = setup();
    connections.findById.mockResolvedValue(aConnection(true));
    hints.pending.mockResolvedValue([HINT]);
    runs.whyNotRunnable.mockResolvedValue(null);
    locks.withConnectionLock.mockResolvedValue({ acquired: false });
    queue.enqueue.mockResolvedValue('job');
    expect(await executor.process('c1')).toBe('busy');
    expect(queue.enqueue).toHaveBeenCalledWith('c1', 2_000);
  });
});
