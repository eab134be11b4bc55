import { Injectable, NotFoundException } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { TenantService } from '../tenants/tenant.service';
import type { ActivityDayDto, ActivitySummaryDto } from './activity-event.dto';
import { ActivityRepository } from './activity.repository';

const DAY_MS = 86_400_000;

/** What the Sync Activity page shows per connection: activities logged, held and failed, per day and now. */
@Injectable()
export class ActivitySummaryService {
  constructor(
    private readonly tenants: TenantService,
    private readonly repository: ActivityRepository,
  ) {}

  async summary(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    days = 7,
    now = new Date(),
  ): Promise<ActivitySummaryDto> {
    await this.tenants.require(tenantId);
    const connection = await this.repository.findConnectionForTenant(tenantId, connectionId);
    if (!connection)
      throw new NotFoundException(`Connection "${connectionId}" does not exist for this tenant`);
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const since = new Date(today - (days - 1) * DAY_MS);
    const current = await this.repository.currentCounts(connection.id);
    const counted = new Map(
      (await this.repository.dailyCounts(connection.id, since)).map((day) => [day.date, day]),
    );
    const perDay: ActivityDayDto[] = [];
    for (let day = 0; day < days; day++) {
      const date = new Date(today - day * DAY_MS).toISOString().slice(0, 10);
      perDay.push(counted.get(date) ?? { date, logged: 0, held: 0, failed: 0 });
    }
    return {
      connectionId: connection.id,
      activityLogging: connection.settings.activityLogging,
      pending: current.pending,
      held: current.held,
      failed: current.failed,
      logged: current.delivered,
      notApplicable: current.skipped,
      days: perDay,
    };
  }
}
