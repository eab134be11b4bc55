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
  SyncLogEntryResponseDto,
  SyncLogQuery,
  SyncNowResponseDto,
  SyncRunResponseDto,
} from './sync.dto';
import { SyncService } from './sync.service';

@CrmApiController('tenants/:tenantId/connections', 'sync')
@ApiExtraModels(FieldProvenanceDto)
export class SyncController {
  constructor(private readonly service: SyncService) {}

  /** The seed's "Sync now": 202 with the queued run (or the one already waiting). */
  @Post(':connectionId/sync')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: SyncNowResponseDto })
  syncNow(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<SyncNowResponseDto> {
    return this.service.syncNow(auth, params.tenantId, params.connectionId);
  }

  @Get(':connectionId/sync-runs')
  @ApiOkResponse({ type: [SyncRunResponseDto] })
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
  provenance(
    @Auth() auth: AuthContext,
    @Param() params: ContactProvenanceParams,
  ): Promise<ContactProvenanceDto[]> {
    return this.service.contactProvenance(auth, params.tenantId, params.connectionId, params.contactId);
  }

  @Get(':connectionId/sync-log')
  @ApiOkResponse({ type: [SyncLogEntryResponseDto] })
  log(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Query() query: SyncLogQuery,
  ): Promise<SyncLogEntryResponseDto[]> {
    return this.service.listLog(auth, params.tenantId, params.connectionId, query);
  }
}
