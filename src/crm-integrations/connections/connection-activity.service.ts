import { Inject, Injectable } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import { API_CLOCK, type ApiClock } from '../http/api-clock';
import { ConnectionRepository, SyncLogRepository, type SyncLogCounts } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import type { ActivityCountsDto, TodayCountsDto } from './connection-activity.dto';
import { ConnectionService } from './connection.service';

const ZERO: ActivityCountsDto = {
  contactsIn: 0,
  contactsOut: 0,
  activitiesLogged: 0,
  conflictsResolved: 0,
  errors: 0,
};

/**
 * Today's counts for the Sync Activity page: contacts synced in and out, activities logged, conflicts resolved
 * and errors, per connection and for the tenant. Counted from the sync log (one aggregate over its (tenant, at)
 * index), so they are exactly what the log shows for today with the same filters.
 */
@Injectable()
export class ConnectionActivityService {
  constructor(
    private readonly tenants: TenantService,
    private readonly connectionService: ConnectionService,
    private readonly connections: ConnectionRepository,
    private readonly log: SyncLogRepository,
    @Inject(API_CLOCK) private readonly clock: ApiClock,
  ) {}

  /**
   * The tenant's connections (or the one given: 404 when not the tenant's), counted since midnight UTC. Callable
   * inside a request or outside one (the AdminJS screen).
   */
  todayCounts(tenantId: string, connectionId?: string): Promise<TodayCountsDto> {
    return this.connections.inContext(() => this.countToday(tenantId, connectionId));
  }

  /** Every tenant's connections, counted since midnight UTC: a platform admin's screens (no API route). */
  platformTodayCounts(): Promise<TodayCountsDto> {
    return this.connections.inContext(async () =>
      this.count(null, await this.connections.listAll(), undefined),
    );
  }

  private async countToday(tenantId: string, connectionId?: string): Promise<TodayCountsDto> {
    const listed: CrmConnection[] = connectionId
      ? [await this.connectionService.require(tenantId, connectionId)]
      : await this.tenants.require(tenantId).then(() => this.connections.listForTenant(tenantId));
    return this.count(tenantId, listed, connectionId);
  }

  private async count(
    tenantId: string | null,
    listed: CrmConnection[],
    connectionId: string | undefined,
  ): Promise<TodayCountsDto> {
    const to = this.clock.now();
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()));
    const counted = new Map<string, SyncLogCounts>(
      (await this.log.countsBetween(tenantId, from, to, connectionId)).map((row) => [row.connectionId, row]),
    );
    const connections = listed.map((connection) => {
      const { connectionId: _id, ...counts } = counted.get(connection.id) ?? { connectionId: '', ...ZERO };
      return {
        connectionId: connection.id,
        provider: connection.provider,
        crmAccountName: connection.crmAccountName ?? null,
        status: connection.status,
        health: connection.health,
        ...counts,
      };
    });
    const totals = { ...ZERO };
    for (const row of connections) {
      for (const key of Object.keys(ZERO) as (keyof ActivityCountsDto)[]) totals[key] += row[key];
    }
    return {
      date: from.toISOString().slice(0, 10),
      from: from.toISOString(),
      to: to.toISOString(),
      totals,
      connections,
    };
  }
}
