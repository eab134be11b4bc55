import { NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import type { AuditService } from '../audit/audit.service';
import type { ConnectionRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aConnection, aTenant } from '../testing/entities';
import { ConnectionService } from './connection.service';

const auth = { actor: 'token:ops', tenantId: null };

describe('ConnectionService', () => {
  let connections: jest.Mocked<ConnectionRepository>;
  let tenants: jest.Mocked<TenantService>;
  let audit: jest.Mocked<AuditService>;
  let service: ConnectionService;

  beforeEach(() => {
    connections = autoMock<ConnectionRepository>('connections');
    tenants = autoMock<TenantService>('tenants');
    audit = autoMock<AuditService>('audit');
    tenants.require.mockResolvedValue(aTenant());
    service = new ConnectionService(connections, tenants, audit);
  });

  it('answers 404 for a connection the tenant does not have (another tenant’s id finds nothing)', async () => {
    connections.findForTenant.mockResolvedValue(null);
    await expect(service.get(auth, 'acme', 'theirs')).rejects.toThrow(NotFoundException);
    expect(connections.findForTenant).toHaveBeenCalledWith('acme', 'theirs');
  });

  it('checks the tenant exists before looking for its connection', async () => {
    tenants.require.mockRejectedValue(new NotFoundException('Tenant "nope" does not exist'));
    await expect(service.require('nope', 'c1')).rejects.toThrow('Tenant "nope" does not exist');
    expect(connections.findForTenant).not.toHaveBeenCalled();
  });

  it('changes only the settings given, stores them, and audits before and after', async () => {
    const connection = aConnection();
    connections.findForTenant.mockResolvedValue(connection);
    connections.flush.mockResolvedValue();
    audit.record.mockResolvedValue();
    const shown = await service.updateSettings(auth, 'acme', connection.id, {
      frequency: 'hourly',
      conflictPolicy: undefined,
    });
    expect(shown.settings).toMatchObject({ frequency: 'hourly', conflictPolicy: 'crm_wins' });
    expect(connections.flush).toHaveBeenCalledTimes(1);
    expect(audit.record).toHaveBeenCalledWith(auth, {
      tenantId: 'acme',
      action: 'connection.settings.updated',
      targetType: 'crm_connection',
      targetId: connection.id,
      before: expect.objectContaining({ frequency: 'every_15_minutes' }),
      after: expect.objectContaining({ frequency: 'hourly' }),
    });
  });

  it('lists the tenant’s connections as the API shows them', async () => {
    const a = aConnection({ provider: 'hubspot' });
    const b = aConnection({ provider: 'salesforce' });
    connections.listForTenant.mockResolvedValue([a, b]);
    const listed = await service.list(auth, 'acme');
    expect(listed.map((c) => [c.id, c.provider])).toEqual([
      [a.id, 'hubspot'],
      [b.id, 'salesforce'],
    ]);
  });
});
