import { Injectable, NotFoundException, Optional } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import { IntegrationPortRegistry } from '@pm/integration-port';
import { syncableObjects } from '@pm/sync-engine';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { ConnectionRepository } from '../repositories';
import { ValidationProblem } from '../http/problem-details.filter';
import { RealtimeChannelService } from '../realtime/realtime-channel.service';
import { TenantService } from '../tenants/tenant.service';
import { ConnectionResponseDto, type UpdateConnectionSettingsDto } from './connection.dto';

@Injectable()
export class ConnectionService {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
    @Optional() private readonly registry?: IntegrationPortRegistry,
    @Optional() private readonly realtime?: RealtimeChannelService,
  ) {}

  async list(_auth: AuthContext, tenantId: string): Promise<ConnectionResponseDto[]> {
    await this.tenants.require(tenantId);
    const connections = await this.connections.listForTenant(tenantId);
    return connections.map((connection) => ConnectionResponseDto.from(connection));
  }

  async get(_auth: AuthContext, tenantId: string, connectionId: string): Promise<ConnectionResponseDto> {
    return ConnectionResponseDto.from(await this.require(tenantId, connectionId));
  }

  async updateSettings(
    auth: AuthContext,
    tenantId: string,
    connectionId: string,
    dto: UpdateConnectionSettingsDto,
  ): Promise<ConnectionResponseDto> {
    const connection = await this.require(tenantId, connectionId);
    if (dto.objects) this.requireSyncable(connection.provider, dto.objects);
    const before = { ...connection.settings };
    const changes = Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
    connection.settings = { ...connection.settings, ...changes };
    await this.connections.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'connection.settings.updated',
      targetType: 'crm_connection',
      targetId: connection.id,
      before,
      after: { ...connection.settings },
    });
    // Real-time turned on or off registers or removes the connection's webhooks at the CRM (where it has them).
    await this.realtime?.settingsChanged(connection, before.realtime === true);
    return ConnectionResponseDto.from(connection);
  }

  /** Objects the connection cannot sync are refused by name, not accepted and then silently ignored. */
  private requireSyncable(provider: string, objects: string[]): void {
    if (!this.registry?.has(provider)) return;
    const port = this.registry.get(provider);
    // Contacts' objects, and the company objects a connector declares a company mapping for (synced as companies).
    const syncable = [
      ...syncableObjects(port),
      ...Object.keys(port.capabilities().defaultCompanyMappings ?? {}),
    ];
    const problems = objects
      .map((object, index) => ({ object, index }))
      .filter(({ object }) => !syncable.includes(object))
      .map(({ object, index }) => ({
        name: `objects.${index}`,
        reason: `${port.capabilities().displayName} object "${object}" cannot be synced by this connection (it syncs: ${syncable.join(', ')})`,
      }));
    if (problems.length > 0) throw new ValidationProblem(problems);
  }

  /** The tenant's connection, or 404 (also when the tenant does not exist): every connection route starts here. */
  async require(tenantId: string, connectionId: string): Promise<CrmConnection> {
    await this.tenants.require(tenantId);
    const connection = await this.connections.findForTenant(tenantId, connectionId);
    if (!connection)
      throw new NotFoundException(`Connection "${connectionId}" does not exist for this tenant`);
    return connection;
  }
}
