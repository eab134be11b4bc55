import { Body, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { PlatformOnly } from '../auth/platform-only.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams, TenantResponseDto, UpsertTenantDto } from './tenant.dto';
import { TenantService } from './tenant.service';

@CrmApiController('tenants/:tenantId', 'tenants')
export class TenantsController {
  constructor(private readonly service: TenantService) {}

  @Get()
  @ApiOkResponse({ type: TenantResponseDto })
  @ApiProblems(400, 404)
  get(@Auth() auth: AuthContext, @Param() { tenantId }: TenantParams): Promise<TenantResponseDto> {
    return this.service.get(auth, tenantId);
  }

  /** Registers or renames a PenguinMails workspace: the platform token only (a tenant token gets a 403). */
  @Put()
  @PlatformOnly()
  @ApiOkResponse({ type: TenantResponseDto })
  @ApiProblems(400, 413)
  upsert(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: UpsertTenantDto,
  ): Promise<TenantResponseDto> {
    return this.service.upsert(auth, tenantId, dto);
  }
}
