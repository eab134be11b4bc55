import { Body, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import { ConnectionParams, ConnectionResponseDto, UpdateConnectionSettingsDto } from './connection.dto';
import { ConnectFlowService } from '../oauth/connect-flow.service';
import { DisconnectResponseDto, StartConnectionDto, StartConnectionResponseDto } from '../oauth/connect.dto';
import { ConnectionService } from './connection.service';

@CrmApiController('tenants/:tenantId/connections', 'connections')
export class ConnectionsController {
  constructor(
    private readonly service: ConnectionService,
    private readonly flow: ConnectFlowService,
  ) {}

  /** The seed's "Connect": returns the CRM's sign-in URL to send the user's browser to. */
  @Post()
  @ApiCreatedResponse({ type: StartConnectionResponseDto })
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
  disconnect(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<DisconnectResponseDto> {
    return this.flow.disconnect(auth, params.tenantId, params.connectionId);
  }

  @Get()
  @ApiOkResponse({ type: [ConnectionResponseDto] })
  list(@Auth() auth: AuthContext, @Param() { tenantId }: TenantParams): Promise<ConnectionResponseDto[]> {
    return this.service.list(auth, tenantId);
  }

  @Get(':connectionId')
  @ApiOkResponse({ type: ConnectionResponseDto })
  get(@Auth() auth: AuthContext, @Param() params: ConnectionParams): Promise<ConnectionResponseDto> {
    return this.service.get(auth, params.tenantId, params.connectionId);
  }

  /** The seed's Configuration page: objects, direction, conflict policy, frequency, activity logging. */
  @Patch(':connectionId/settings')
  @ApiOkResponse({ type: ConnectionResponseDto })
  updateSettings(
    @Auth() auth: AuthContext,
    @Param() params: ConnectionParams,
    @Body() dto: UpdateConnectionSettingsDto,
  ): Promise<ConnectionResponseDto> {
    return this.service.updateSettings(auth, params.tenantId, params.connectionId, dto);
  }
}
