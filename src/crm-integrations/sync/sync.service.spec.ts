import { ConflictException, NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import type { ConnectionService } from '../connections/connection.service';
import type { RecordLinkRepository, SyncRunRepository } from '../repositories';
import { aConnection, aRun } from '../testing/entities';
import type { SyncRuns } from './sync-runs';
import { SyncService } from './sync.service';

const auth = { actor: 'token:app', tenantId: null };

describe('SyncService', () => {
  let connections: jest.Mocked<ConnectionService>;
  let runs: jest.Mocked<SyncRuns>;
  let runRepository: jest.Mocked<SyncRunRepository>;
  let links: jest.Mocked<RecordLinkRepository>;
  let service: SyncService;
  const connection = aConnection({ id: 'conn-1' });

  beforeEach(() => {
    connections = autoMock<ConnectionService>('connections');
    runs = autoMock<SyncRuns>('runs');
    runRepository = autoMock<SyncRunRepository>('runRepository');
    links = autoMock<RecordLinkRepository>('links');
    service = new SyncService(connections, runs, runRepository, links);
  });

  it('"Sync now" on another tenant’s connection is a 404, and nothing is queued', async () => {
    connections.require.mockRejectedValue(new NotFoundException('no such connection'));
    await expect(service.syncNow(auth, 'acme', 'theirs')).rejects.toThrow(NotFoundException);
  });

  it('"Sync now" refuses with 409 and the reason when the connection may not run', async () => {
    connections.require.mockResolvedValue(connection);
    runs.whyNotRunnable.mockResolvedValue('hubspot is disabled by an administrator');
    await expect(service.syncNow(auth, 'acme', 'conn-1')).rejects.toThrow(
      new ConflictException('Cannot sync now: hubspot is disabled by an administrator'),
    );
  });

  it('"Sync now" queues ahead of background work and says whether a new run was queued', async () => {
    connections.require.mockResolvedValue(connection);
    runs.whyNotRunnable.mockResolvedValue(null);
    runs.request.mockResolvedValue({ run: aRun({ id: 'run-1' }), queued: true });
    const answer = await service.syncNow(auth, 'acme', 'conn-1');
    expect(answer).toMatchObject({ queued: true, run: { id: 'run-1', status: 'queued' } });
    expect(runs.request).toHaveBeenCalledWith({ id: 'conn-1', tenantId: 'acme' }, 'manual', {
      priority: 10,
    });
  });

  it('lists runs and a contact’s provenance only after finding the connection in the tenant', async () => {
    connections.require.mockResolvedValue(connection);
    runRepository.listForConnection.mockResolvedValue([aRun({ id: 'run-1' })]);
    links.contactLinks.mockResolvedValue([]);
    expect((await service.listRuns(auth, 'acme', 'conn-1')).map((run) => run.id)).toEqual(['run-1']);
    expect(runRepository.listForConnection).toHaveBeenCalledWith('conn-1', 50);
    expect(await service.contactProvenance(auth, 'acme', 'conn-1', 'contact-1')).toEqual([]);
    expect(links.contactLinks).toHaveBeenCalledWith('conn-1', 'contact-1');
    expect(connections.require).toHaveBeenCalledTimes(2);
  });
});
