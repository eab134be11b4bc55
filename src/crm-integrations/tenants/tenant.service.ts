import { Injectable, NotFoundException } from '@nestjs/common';
import type { Tenant } from '@pm/domain';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { TenantRepository } from '../repositories';
import { TenantResponseDto, type UpsertTenantDto } from './tenant.dto';

@Injectable()
export class TenantService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly audit: AuditService,
  ) {}

  /** The tenant, or 404: every tenant-scoped service starts here. */
  async require(tenantId: string): Promise<Tenant> {
    const tenant = await this.tenants.find(tenantId);
    if (!tenant) throw new NotFoundException(`Tenant "${tenantId}" does not exist`);
    return tenant;
  }

  async get(_auth: AuthContext, tenantId: string): Promise<TenantResponseDto> {
    return TenantResponseDto.from(await this.require(tenantId));
  }

  async upsert(auth: AuthContext, tenantId: string, dto: UpsertTenantDto): Promise<TenantResponseDto> {
    const { tenant, created, before } = await this.tenants.upsert(tenantId, dto.name);
    await this.audit.record(auth, {
      tenantId,
      action: created ? 'tenant.created' : 'tenant.updated',
      targetType: 'tenant',
      targetId: tenantId,
      before: before ?? null,
      after: { name: tenant.name },
    });
    return TenantResponseDto.from(tenant);
  }
}
