import { Body, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import { ConnectionParams, ConnectionResponseDto, UpdateConnectionSettingsDto } from './connection.dto';
import { ConnectFlowService } from '../oauth/connect-flow.service';
import {
  DisconnectResponseDto,
  ReconnectDto,
  StartConnectionDto,
  StartConnectionResponseDto,
} from '../oauth/connect.dto';
import { TodayCountsDto } from './connection-activity.dto';
import { ConnectionActivityService } from './connection-activity.service';
import { ConnectionService } from './connection.service';

@CrmApiController('tenants/:tenantId/connections', 'connections')
export class ConnectionsController {
  constructor(
    private readonly service: ConnectionService,
    private readonly flow: ConnectFlowService,
    private readonly activity: ConnectionActivityService,
  ) {}

  /** The seed's "Connect": returns the CRM's sign-in URL to send the user's browser to. */
  @Post()
  @ApiCreatedResponse({ type: StartConnectionResponseDto })
  @ApiProblems(400, 404, 413)
  connect(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: StartConnectionDto,
  ): Promise<StartConnectionResponseDto> {
    return this.flow.start(auth, tenantId, dto);
  }

  /** Revokes the token at the CRM and deletes the stored secrets; settings, links and history stay. */
  @Delete(':connectionId')
  @ApiOkResponse({ type: DisconnectResponseDto })
  @ApiProblems(400, 404)
  disconnect(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<DisconnectResponseDto> {
    return this.flow.disconnect(auth, params.tenantId, params.connectionId);
  }

  /** A new sign-in link for this connection's CRM; the same account keeps settings, links and history. */
  @Post(':connectionId/reconnect')
  @ApiCreatedResponse({ type: StartConnectionResponseDto })
  @ApiProblems(400, 404, 413)
  reconnect(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Body() dto: ReconnectDto,
  ): Promise<StartConnectionResponseDto> {
    return this.flow.reconnect(auth, params.tenantId, params.connectionId, dto);
  }

  @Get()
  @ApiOkResponse({ type: [ConnectionResponseDto] })
  @ApiProblems(400, 404)
  list(@Auth() auth: AuthContext, @Param() { tenantId }: TenantParams): Promise<ConnectionResponseDto[]> {
    return this.service.list(auth, tenantId);
  }

  /** Status (and its reason) and health (healthy, degraded, paused, with the reason), settings, last and next sync. */
  @Get(':connectionId')
  @ApiOkResponse({ type: ConnectionResponseDto })
  @ApiProblems(400, 404)
  get(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<ConnectionResponseDto> {
    return this.service.get(auth, params.tenantId, params.connectionId);
  }

  /** Today's counts (UTC) of this connection: contacts in and out, activities logged, conflicts, errors. */
  @Get(':connectionId/counts/today')
  @ApiOkResponse({ type: TodayCountsDto })
  @ApiProblems(400, 404)
  today(@Param() params: ConnectionParams): Promise<TodayCountsDto> {
    return this.activity.todayCounts(params.tenantId, params.connectionId);
  }

  /** The seed's Configuration page: objects, direction, conflict policy, frequency, activity logging. */
  @Patch(':connectionId/settings')
  @ApiOkResponse({ type: ConnectionResponseDto })
  @ApiProblems(400, 404, 413)
  updateSettings(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Body() dto: UpdateConnectionSettingsDto,
  ): Promise<ConnectionResponseDto> {
    return this.service.updateSettings(auth, params.tenantId, params.connectionId, dto);
  }
}
