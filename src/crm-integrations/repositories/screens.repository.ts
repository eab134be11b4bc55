import { Injectable } from '@nestjs/common';
import {
  CrmConnection,
  ProviderSetting,
  SyncLogEntry,
  SyncRun,
  Tenant,
  type SyncLogAction,
} from '@pm/domain';
import { CrmRepository } from './base.repository';

/** Which rows a screen reads: one tenant's (tenantId set), one connection's, or every tenant's (tenantId null). */
export interface ScreenScope {
  tenantId: string | null;
  connectionId?: string;
}

/** The full log's filters (the Sync Activity page's "View Full Log"). */
export interface ScreenLogFilter extends ScreenScope {
  direction?: 'to_crm' | 'from_crm' | 'none';
  action?: SyncLogAction;
  errorsOnly?: boolean;
  from?: Date;
  to?: Date;
}

/**
 * The read side of the AdminJS screens (home, Sync Activity, admin controls): counts, logs and switches across a
 * tenant or across tenants. Called from AdminJS handlers, outside any Nest request: every method forks.
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

  /** How many of the scope's log lines about records since `since` have one of `actions`. */
  countSince(scope: ScreenScope, since: Date, actions: SyncLogAction[]): Promise<number> {
    return this.fork().count(SyncLogEntry, {
      ...this.where(scope, 'connection'),
      at: { $gte: since },
      action: { $in: actions },
    });
  }

  /** One page of log lines, newest first, and how many match. */
  async listLog(
    filter: ScreenLogFilter,
    page: { offset: number; limit: number },
  ): Promise<{ rows: SyncLogEntry[]; total: number }> {
    const where: Record<string, unknown> = { ...this.where(filter, 'connection') };
    if (filter.direction) where.direction = filter.direction;
    if (filter.errorsOnly) where.action = 'error';
    else if (filter.action) where.action = filter.action;
    if (filter.from || filter.to) {
      where.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lte: filter.to } : {}) };
    }
    const [rows, total] = await this.fork().findAndCount(SyncLogEntry, where, {
      orderBy: { id: 'desc' },
      offset: page.offset,
      limit: page.limit,
      populate: ['connection'],
    });
    return { rows, total };
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
