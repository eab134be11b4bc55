import { Body, Get, Param, Patch } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import { ConnectionParams, ConnectionResponseDto, UpdateConnectionSettingsDto } from './connection.dto';
import { ConnectionService } from './connection.service';

@CrmApiController('tenants/:tenantId/connections', 'connections')
export class ConnectionsController {
  constructor(private readonly service: ConnectionService) {}

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
