import { ConflictException, NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import type { ConnectionService } from '../connections/connection.service';
import type { ConnectionRepository, SyncRunRepository } from '../repositories';
import type { SyncRuns } from '../sync/sync-runs';
import { aConnection, aRun } from '../testing/entities';
import { ReconcileService } from './reconcile.service';

describe('ReconcileService', () => {
  let connections: jest.Mocked<ConnectionService>;
  let runs: jest.Mocked<SyncRuns>;
  let runRepository: jest.Mocked<SyncRunRepository>;
  let service: ReconcileService;
  const connection = aConnection({ id: 'conn-1' });

  beforeEach(() => {
    connections = autoMock<ConnectionService>('connections');
    runs = autoMock<SyncRuns>('runs');
    runRepository = autoMock<SyncRunRepository>('runRepository');
    service = new ReconcileService(
      connections,
      runs,
      runRepository,
      autoMock<ConnectionRepository>('connectionRepository'),
    );
  });

  it('queues a reconcile run and answers it with its (not yet known) drift', async () => {
    connections.require.mockResolvedValue(connection);
    runs.whyNotRunnable.mockResolvedValue(null);
    const run = aRun({
      id: 'r1',
      trigger: 'reconcile',
      queuedAt: new Date('2026-12-06T00:00:00Z'),
      counts: {},
    });
    runs.request.mockResolvedValue({ run, queued: true });
    const answer = await service.reconcileNow('acme', 'conn-1');
    expect(runs.request).toHaveBeenCalledWith({ id: 'conn-1', tenantId: 'acme' }, 'reconcile');
    expect(answer).toMatchObject({ queued: true, run: { id: 'r1', trigger: 'reconcile', drift: null } });
  });

  it('refuses with 409 and the reason when the connection may not run, and 404 for another tenant\u2019s', async () => {
    connections.require.mockResolvedValueOnce(connection);
    runs.whyNotRunnable.mockResolvedValue('the connection is disconnected');
    await expect(service.reconcileNow('acme', 'conn-1')).rejects.toThrow(
      new ConflictException('Cannot reconcile now: the connection is disconnected'),
    );
    connections.require.mockRejectedValueOnce(new NotFoundException('no such connection'));
    await expect(service.reconcileNow('acme', 'theirs')).rejects.toThrow(NotFoundException);
    expect(runs.request).not.toHaveBeenCalled();
  });

  it('lists the connection\u2019s reconciles with their drift, newest first as stored', async () => {
    connections.require.mockResolvedValue(connection);
    const drift = {
      contacts: {
        crmRecords: 60,
        localContacts: 67,
        missingInCrm: 7,
        changedInCrm: 0,
        notInCrm: 0,
        changedLocally: 0,
        notInPenguinMails: 0,
      },
    };
    runRepository.listReconciles.mockResolvedValue([
      aRun({ id: 'r2', trigger: 'reconcile', status: 'succeeded', queuedAt: new Date(), counts: {}, drift }),
    ]);
    const listed = await service.listRuns('acme', 'conn-1', 5);
    expect(runRepository.listReconciles).toHaveBeenCalledWith('conn-1', 5);
    expect(listed[0]).toMatchObject({ id: 'r2', drift });
  });
});
