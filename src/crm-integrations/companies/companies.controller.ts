import { Body, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import {
  CompanyPageDto,
  CompanyParams,
  CompanyResponseDto,
  ListCompaniesQuery,
  UpsertCompanyDto,
} from './company.dto';
import { CompanyService } from './company.service';

@CrmApiController('tenants/:tenantId/companies', 'companies')
export class CompaniesController {
  constructor(private readonly service: CompanyService) {}

  @Get()
  @ApiOkResponse({ type: CompanyPageDto })
  @ApiProblems(400, 404)
  list(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Query() query: ListCompaniesQuery,
  ): Promise<CompanyPageDto> {
    return this.service.list(auth, tenantId, query);
  }

  /** Upsert by domain, else name: 201 when the company is new, 200 when an existing one was updated. */
  @Post()
  @ApiCreatedResponse({ type: CompanyResponseDto })
  @ApiProblems(400, 404, 413)
  async upsert(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: UpsertCompanyDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CompanyResponseDto> {
    const { company, created } = await this.service.upsert(auth, tenantId, dto);
    response.status(created ? 201 : 200);
    return company;
  }

  @Delete(':companyId')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblems(400, 404)
  remove(@Auth() auth: AuthContext, @Param() params: CompanyParams): Promise<void> {
    return this.service.remove(auth, params.tenantId, params.companyId);
  }
}
