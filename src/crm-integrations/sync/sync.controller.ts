import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiExtraModels, ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ConnectionParams } from '../connections/connection.dto';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import {
  ContactProvenanceDto,
  ContactProvenanceParams,
  FieldProvenanceDto,
  SyncListQuery,
  SyncNowResponseDto,
  SyncRunResponseDto,
} from './sync.dto';
import { ConnectionSyncLogQuery, SyncLogPageDto } from './sync-log.dto';
import { SyncLogService } from './sync-log.service';
import { SyncService } from './sync.service';
import { ApiProblems } from '../http/api-problems.decorator';

@CrmApiController('tenants/:tenantId/connections', 'sync')
@ApiExtraModels(FieldProvenanceDto)
export class SyncController {
  constructor(
    private readonly service: SyncService,
    private readonly syncLog: SyncLogService,
  ) {}

  /** The seed's "Sync now": 202 with the queued run (or the one already waiting). */
  @Post(':connectionId/sync')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: SyncNowResponseDto })
  @ApiProblems(400, 404, [409, 'The connection cannot sync now (disconnected, disabled…): the reason'])
  syncNow(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<SyncNowResponseDto> {
    return this.service.syncNow(auth, params.tenantId, params.connectionId);
  }

  @Get(':connectionId/sync-runs')
  @ApiOkResponse({ type: [SyncRunResponseDto] })
  @ApiProblems(400, 404, 422)
  runs(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Query() query: SyncListQuery,
  ): Promise<SyncRunResponseDto[]> {
    return this.service.listRuns(auth, params.tenantId, params.connectionId, query.limit);
  }

  /** Per-field provenance of one contact's sync: value, side, time and rule for each mapped field. */
  @Get(':connectionId/contacts/:contactId/provenance')
  @ApiOkResponse({ type: [ContactProvenanceDto] })
  @ApiProblems(400, 404)
  provenance(
    @Auth() auth: AuthContext,
    @Param() params: ContactProvenanceParams,
  ): Promise<ContactProvenanceDto[]> {
    return this.service.contactProvenance(auth, params.tenantId, params.connectionId, params.contactId);
  }

  /** The connection's log, newest first, filtered (direction, action, errors only, time range), a page at a time. */
  @Get(':connectionId/sync-log')
  @ApiOkResponse({ type: SyncLogPageDto })
  @ApiProblems(400, 404, 422)
  log(@Param() params: ConnectionParams, @Query() query: ConnectionSyncLogQuery): Promise<SyncLogPageDto> {
    return this.syncLog.connectionPage(params.tenantId, params.connectionId, query);
  }
}
