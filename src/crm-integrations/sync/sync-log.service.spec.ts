import { NotFoundException } from '@nestjs/common';
import { SyncLogEntry } from '@pm/domain';
import { autoMock } from '@pm/integration-port/testing';
import type { ConnectionService } from '../connections/connection.service';
import type { SyncLogRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aConnection, aTenant } from '../testing/entities';
import { decodeLogCursor, encodeLogCursor, SyncLogService } from './sync-log.service';

function aLine(id: string, at: string): SyncLogEntry {
  return Object.assign(new SyncLogEntry(), {
    id,
    at: new Date(at),
    connection: aConnection({ id: 'conn-1' }),
    direction: 'to_crm',
    object: 'contacts',
    action: 'created',
    message: 'Contact synced',
  });
}

describe('SyncLogService', () => {
  let tenants: jest.Mocked<TenantService>;
  let connections: jest.Mocked<ConnectionService>;
  let log: jest.Mocked<SyncLogRepository>;
  let service: SyncLogService;

  beforeEach(() => {
    tenants = autoMock<TenantService>('tenants');
    connections = autoMock<ConnectionService>('connections');
    log = autoMock<SyncLogRepository>('log');
    log.inContext.mockImplementation((work) => work());
    service = new SyncLogService(tenants, connections, log);
  });

  it('asks for one line more than the page and gives a cursor at the last line shown only when more follow', async () => {
    tenants.require.mockResolvedValue(aTenant());
    const lines = [
      aLine('9', '2026-12-06T10:00:00Z'),
      aLine('8', '2026-12-06T09:00:00Z'),
      aLine('7', '2026-12-06T08:00:00Z'),
    ];
    log.page.mockResolvedValueOnce(lines).mockResolvedValueOnce(lines.slice(0, 2));
    const page = await service.page('acme', { limit: 2 });
    expect(log.page).toHaveBeenCalledWith(expect.objectContaining({ tenantId: 'acme', limit: 3 }));
    expect(page.data.map((line) => line.id)).toEqual(['9', '8']);
    expect(decodeLogCursor(page.nextCursor!)).toEqual({ at: new Date('2026-12-06T09:00:00Z'), id: '8' });
    expect((await service.page('acme', { limit: 2 })).nextCursor).toBeNull();
  });

  it('turns errors-only into the error action, and the cursor into the keyset', async () => {
    tenants.require.mockResolvedValue(aTenant());
    log.page.mockResolvedValue([]);
    const cursor = encodeLogCursor({ at: new Date('2026-12-06T09:00:00Z'), id: '42' });
    await service.page('acme', { errorsOnly: true, cursor, from: '2026-12-06T00:00:00Z' });
    expect(log.page).toHaveBeenCalledWith({
      tenantId: 'acme',
      actions: ['error'],
      before: { at: new Date('2026-12-06T09:00:00Z'), id: '42' },
      from: new Date('2026-12-06T00:00:00Z'),
      limit: 101,
      connectionId: undefined,
      runId: undefined,
      direction: undefined,
      to: undefined,
    });
  });

  it('refuses a forged cursor, an empty range, and errors-only with other actions, before reading', async () => {
    tenants.require.mockResolvedValue(aTenant());
    await expect(
      service.page('acme', { cursor: encodeLogCursor({ at: new Date(0), id: 'x; drop' }) }),
    ).rejects.toMatchObject({
      invalidParams: [{ name: 'cursor', reason: 'is not a cursor this log gave out' }],
    });
    await expect(
      service.page('acme', { from: '2026-12-06T01:00:00Z', to: '2026-12-06T01:00:00Z' }),
    ).rejects.toMatchObject({
      invalidParams: [{ name: 'to', reason: 'must be after from' }],
    });
    await expect(service.page('acme', { errorsOnly: true, action: ['created'] })).rejects.toMatchObject({
      invalidParams: [expect.objectContaining({ name: 'errorsOnly' })],
    });
    expect(log.page).not.toHaveBeenCalled();
  });

  it('reads a connection’s log only after finding the connection in the tenant', async () => {
    connections.require.mockRejectedValueOnce(new NotFoundException('no such connection'));
    await expect(service.connectionPage('acme', 'theirs')).rejects.toThrow(NotFoundException);
    expect(log.page).not.toHaveBeenCalled();
    connections.require.mockResolvedValue(aConnection({ id: 'conn-1' }));
    log.page.mockResolvedValue([]);
    await service.connectionPage('acme', 'conn-1', { runId: 'run-1' });
    expect(log.page).toHaveBeenCalledWith(
      expect.objectContaining({ tenantId: 'acme', connectionId: 'conn-1', runId: 'run-1' }),
    );
  });

  it('reads and counts every tenant’s lines only through the platform methods, with the same filters', async () => {
    log.page.mockResolvedValue([aLine('9', '2026-12-06T10:00:00Z')]);
    log.count.mockResolvedValue(7);
    const page = await service.platformPage({ connectionId: 'conn-1', errorsOnly: true, limit: 20 });
    expect(page.data.map((line) => line.connectionId)).toEqual(['conn-1']);
    expect(log.page).toHaveBeenCalledWith(
      expect.objectContaining({ tenantId: null, connectionId: 'conn-1', actions: ['error'], limit: 21 }),
    );
    expect(tenants.require).not.toHaveBeenCalled();
    expect(await service.count('acme', { direction: 'from_crm', to: '2026-12-07T00:00:00Z' })).toBe(7);
    expect(log.count).toHaveBeenCalledWith(
      expect.objectContaining({
        tenantId: 'acme',
        direction: 'from_crm',
        to: new Date('2026-12-07T00:00:00Z'),
      }),
    );
    await expect(
      service.count(null, { from: '2026-12-07T00:00:00Z', to: '2026-12-06T00:00:00Z' }),
    ).rejects.toMatchObject({
      invalidParams: [{ name: 'to', reason: 'must be after from' }],
    });
  });
});
