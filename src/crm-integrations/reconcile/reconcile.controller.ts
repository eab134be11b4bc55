import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse } from '@nestjs/swagger';
import { ConnectionParams } from '../connections/connection.dto';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { SyncListQuery } from '../sync/sync.dto';
import { ReconcileNowResponseDto, ReconcileRunResponseDto } from './reconcile.dto';
import { ReconcileService } from './reconcile.service';

@CrmApiController('tenants/:tenantId/connections', 'sync')
export class ReconcileController {
  constructor(private readonly service: ReconcileService) {}

  /** A reconcile now: 202 with the queued run (or the one already waiting); its drift shows once it has run. */
  @Post(':connectionId/reconcile')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ReconcileNowResponseDto })
  @ApiProblems(400, 404, [409, 'The connection cannot reconcile now (disconnected, disabled…): the reason'])
  reconcile(@Param() params: ConnectionParams): Promise<ReconcileNowResponseDto> {
    return this.service.reconcileNow(params.tenantId, params.connectionId);
  }

  /** The connection's reconciles, newest first, each with the drift it found (the first is the last report). */
  @Get(':connectionId/reconcile-runs')
  @ApiOkResponse({ type: [ReconcileRunResponseDto] })
  @ApiProblems(400, 404, 422)
  runs(@Param() params: ConnectionParams, @Query() query: SyncListQuery): Promise<ReconcileRunResponseDto[]> {
    return this.service.listRuns(params.tenantId, params.connectionId, query.limit);
  }
}
