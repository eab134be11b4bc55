import { NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import type { ConnectionRepository, SyncLogRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aConnection, aTenant } from '../testing/entities';
import { ConnectionActivityService } from './connection-activity.service';
import type { ConnectionService } from './connection.service';

const NOW = new Date('2026-12-06T15:30:00.000Z');
const MIDNIGHT = new Date('2026-12-06T00:00:00.000Z');

describe('ConnectionActivityService', () => {
  let tenants: jest.Mocked<TenantService>;
  let connectionService: jest.Mocked<ConnectionService>;
  let connections: jest.Mocked<ConnectionRepository>;
  let log: jest.Mocked<SyncLogRepository>;
  let service: ConnectionActivityService;

  beforeEach(() => {
    tenants = autoMock<TenantService>('tenants');
    connectionService = autoMock<ConnectionService>('connectionService');
    connections = autoMock<ConnectionRepository>('connections');
    connections.inContext.mockImplementation((work) => work());
    log = autoMock<SyncLogRepository>('log');
    service = new ConnectionActivityService(tenants, connectionService, connections, log, {
      now: () => NOW,
    });
  });

  it('counts the tenant’s day since midnight UTC, lists idle connections with zeros, and sums', async () => {
    tenants.require.mockResolvedValue(aTenant());
    const busy = aConnection({ id: 'c1' });
    const idle = aConnection({ id: 'c2', provider: 'salesforce' });
    connections.listForTenant.mockResolvedValue([busy, idle]);
    log.countsBetween.mockResolvedValue([
      {
        connectionId: 'c1',
        contactsIn: 3,
        contactsOut: 2,
        activitiesLogged: 5,
        conflictsResolved: 1,
        errors: 4,
      },
    ]);
    const today = await service.todayCounts('acme');
    expect(log.countsBetween).toHaveBeenCalledWith('acme', MIDNIGHT, NOW, undefined);
    expect(today).toMatchObject({ date: '2026-12-06', from: MIDNIGHT.toISOString(), to: NOW.toISOString() });
    expect(today.totals).toEqual({
      contactsIn: 3,
      contactsOut: 2,
      activitiesLogged: 5,
      conflictsResolved: 1,
      errors: 4,
    });
    expect(today.connections[1]).toMatchObject({
      connectionId: 'c2',
      provider: 'salesforce',
      contactsIn: 0,
      errors: 0,
    });
  });

  it('counts one connection only after finding it in the tenant', async () => {
    connectionService.require.mockRejectedValueOnce(new NotFoundException('no such connection'));
    await expect(service.todayCounts('acme', 'theirs')).rejects.toThrow(NotFoundException);
    expect(log.countsBetween).not.toHaveBeenCalled();
    connectionService.require.mockResolvedValue(aConnection({ id: 'c1' }));
    log.countsBetween.mockResolvedValue([]);
    const today = await service.todayCounts('acme', 'c1');
    expect(log.countsBetween).toHaveBeenCalledWith('acme', MIDNIGHT, NOW, 'c1');
    expect(today.connections.map((c) => c.connectionId)).toEqual(['c1']);
  });

  it('counts every tenant’s connections for a platform admin, without asking for a tenant', async () => {
    connections.listAll.mockResolvedValue([aConnection({ id: 'c1' }), aConnection({ id: 'c9' })]);
    log.countsBetween.mockResolvedValue([
      {
        connectionId: 'c9',
        contactsIn: 0,
        contactsOut: 4,
        activitiesLogged: 0,
        conflictsResolved: 0,
        errors: 1,
      },
    ]);
    const today = await service.platformTodayCounts();
    expect(log.countsBetween).toHaveBeenCalledWith(null, MIDNIGHT, NOW, undefined);
    expect(tenants.require).not.toHaveBeenCalled();
    expect(today.connections.map((row) => [row.connectionId, row.contactsOut])).toEqual([
      ['c1', 0],
      ['c9', 4],
    ]);
    expect(today.totals).toMatchObject({ contactsOut: 4, errors: 1 });
  });
});
