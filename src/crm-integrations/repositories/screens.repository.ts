import { Injectable } from '@nestjs/common';
import { CrmConnection, ProviderSetting, SyncRun, Tenant } from '@pm/domain';
import { CrmRepository } from './base.repository';

/** Which rows a screen reads: one tenant's (tenantId set), one connection's, or every tenant's (tenantId null). */
export interface ScreenScope {
  tenantId: string | null;
  connectionId?: string;
}

/**
 * The read side of the AdminJS screens (home, Sync Activity, admin controls): connections, runs and switches
 * across a tenant or across tenants. The counts and the log are the API's (SyncLogRepository, through its
 * services). Called from AdminJS handlers, outside any Nest request: every method forks.
 */
@Injectable()
export class ScreensRepository extends CrmRepository {
  listTenants(tenantId: string | null): Promise<Tenant[]> {
    return this.fork().find(Tenant, tenantId === null ? {} : { id: tenantId }, { orderBy: { id: 'asc' } });
  }

  listConnections(scope: ScreenScope): Promise<CrmConnection[]> {
    return this.fork().find(CrmConnection, this.where(scope, 'id'), {
      orderBy: { createdAt: 'asc' },
    });
  }

  findConnection(scope: ScreenScope, connectionId: string): Promise<CrmConnection | null> {
    return this.fork().findOne(CrmConnection, { ...this.where(scope, 'id'), id: connectionId });
  }

  /** The newest runs of the scope. */
  listRuns(scope: ScreenScope, limit: number): Promise<SyncRun[]> {
    return this.fork().find(SyncRun, this.where(scope, 'connection'), {
      orderBy: { queuedAt: 'desc' },
      limit,
      populate: ['connection'],
    });
  }

  listProviderSettings(): Promise<ProviderSetting[]> {
    return this.fork().find(ProviderSetting, {}, { orderBy: { provider: 'asc' } });
  }

  /** Sets a CRM's switch (global with tenantId null); returns whether it was enabled before (null: no switch). */
  async saveProviderSetting(
    provider: string,
    tenantId: string | null,
    enabled: boolean,
  ): Promise<{ before: boolean | null }> {
    const em = this.fork();
    const existing = await em.findOne(ProviderSetting, { provider, tenant: tenantId });
    const before = existing ? existing.enabled : null;
    if (existing) existing.enabled = enabled;
    else
      em.create(ProviderSetting, {
        provider,
        tenant: tenantId === null ? null : em.getReference(Tenant, tenantId),
        enabled,
      });
    await em.flush();
    return { before };
  }

  private where(scope: ScreenScope, connectionPath: 'id' | 'connection'): Record<string, unknown> {
    const where: Record<string, unknown> = {};
    if (scope.tenantId !== null) where.tenant = scope.tenantId;
    if (scope.connectionId) where[connectionPath] = scope.connectionId;
    return where;
  }
}
