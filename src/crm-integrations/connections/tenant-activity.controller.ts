import { Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { SyncLogPageDto, TenantSyncLogQuery } from '../sync/sync-log.dto';
import { SyncLogService } from '../sync/sync-log.service';
import { TenantParams } from '../tenants/tenant.dto';
import { TodayCountsDto } from './connection-activity.dto';
import { ConnectionActivityService } from './connection-activity.service';

/** The tenant-wide Sync Activity: today's counts over every connection, and the log across them. */
@CrmApiController('tenants/:tenantId', 'sync-activity')
export class TenantActivityController {
  constructor(
    private readonly activity: ConnectionActivityService,
    private readonly log: SyncLogService,
  ) {}

  /** Today's counts (UTC) per connection of the tenant and summed. */
  @Get('counts/today')
  @ApiOkResponse({ type: TodayCountsDto })
  @ApiProblems(400, 404)
  today(@Param() { tenantId }: TenantParams): Promise<TodayCountsDto> {
    return this.activity.todayCounts(tenantId);
  }

  /** The log of every connection of the tenant, newest first, filtered, a page at a time. */
  @Get('sync-log')
  @ApiOkResponse({ type: SyncLogPageDto })
  @ApiProblems(400, 404, 422)
  syncLog(@Param() { tenantId }: TenantParams, @Query() query: TenantSyncLogQuery): Promise<SyncLogPageDto> {
    return this.log.page(tenantId, query);
  }
}
