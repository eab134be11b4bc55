import { autoMock } from '@pm/integration-port/testing';
import type { ConnectionRepository, SyncRunRepository } from '../repositories';
import type { SyncRuns } from '../sync/sync-runs';
import { aConnection, aRun } from '../testing/entities';
import { RECONCILE_INTERVAL_MS, ReconcileScheduler } from './reconcile-scheduler';
import { ReconcileService } from './reconcile.service';
import type { ConnectionService } from '../connections/connection.service';

describe('ReconcileService.queueDue (the ReconcileScheduler tick)', () => {
  it('queues a reconcile for each runnable, synced connection whose last reconcile is over an hour old', async () => {
    const connections = autoMock<ConnectionRepository>('connections');
    const runRepository = autoMock<SyncRunRepository>('runRepository');
    const runs = autoMock<SyncRuns>('runs');
    const connectionService = autoMock<ConnectionService>('connectionService');
    const now = new Date('2026-12-06T12:00:00Z');
    const synced = new Date('2026-12-06T11:00:00Z');
    connections.findConnected.mockResolvedValue([
      aConnection({ id: 'due', lastSyncAt: synced }),
      aConnection({ id: 'recent', lastSyncAt: synced }),
      aConnection({ id: 'never-synced', lastSyncAt: null }),
      aConnection({ id: 'disabled', lastSyncAt: synced }),
    ]);
    runRepository.withoutReconcileSince.mockResolvedValue(['due', 'never-synced', 'disabled']);
    runs.whyNotRunnable.mockImplementation(async (connection) =>
      connection.id === 'disabled' ? 'hubspot is disabled by an administrator' : null,
    );
    runs.request.mockResolvedValue({ run: aRun({ trigger: 'reconcile' }), queued: true });
    const service = new ReconcileService(connectionService, runs, runRepository, connections);

    const queued = await new ReconcileScheduler(service).tick(now);
    expect(queued).toEqual(['due']);
    expect(runRepository.withoutReconcileSince).toHaveBeenCalledWith(
      ['due', 'recent', 'never-synced', 'disabled'],
      new Date(now.getTime() - RECONCILE_INTERVAL_MS),
    );
    expect(runs.request).toHaveBeenCalledTimes(1);
    expect(runs.request).toHaveBeenCalledWith({ id: 'due', tenantId: 'acme' }, 'reconcile');
  });
});
