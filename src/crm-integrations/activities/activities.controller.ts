import { Body, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ConnectionParams } from '../connections/connection.dto';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import {
  ActivitySummaryDto,
  ActivitySummaryQuery,
  IngestActivitiesDto,
  IngestResponseDto,
} from './activity-event.dto';
import { ActivityIngestService } from './activity-ingest.service';
import { ActivitySummaryService } from './activity-summary.service';

@CrmApiController('tenants/:tenantId', 'activities')
export class ActivitiesController {
  constructor(
    private readonly ingestion: ActivityIngestService,
    private readonly summaries: ActivitySummaryService,
  ) {}

  /** E-mail events from PenguinMails (up to 1,000): 207 with one result per event; delivery runs as a job. */
  @Post('activities')
  @HttpCode(207)
  @ApiResponse({
    status: 207,
    type: IngestResponseDto,
    description: 'One result per event, in request order',
  })
  @ApiProblems(400, 404, [413, 'More than 1,000 events, or a body over 5 MB (problem+json naming the limit)'])
  ingest(
    @Auth() auth: AuthContext,
    @Param() params: TenantParams,
    @Body() body: IngestActivitiesDto,
  ): Promise<IngestResponseDto> {
    return this.ingestion.ingest(auth, params.tenantId, body.events);
  }

  /** The Sync Activity page's counts: activities logged, held and failed per day, and what waits now. */
  @Get('connections/:connectionId/activities/summary')
  @ApiOkResponse({ type: ActivitySummaryDto })
  @ApiProblems(400, 404)
  summary(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Query() query: ActivitySummaryQuery,
  ): Promise<ActivitySummaryDto> {
    return this.summaries.summary(auth, params.tenantId, params.connectionId, query.days);
  }
}
