import { Body, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { PlatformOnly } from '../auth/platform-only.decorator';
import { ServiceTokenService } from '../auth/service-token.service';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import {
  CreatedServiceTokenDto,
  CreateServiceTokenDto,
  ListServiceTokensQuery,
  ServiceTokenParams,
  ServiceTokenResponseDto,
} from './service-token.dto';

/** Service tokens, managed with the platform token (tenant tokens get a 403). */
@CrmApiController('service-tokens', 'service-tokens')
@PlatformOnly()
export class ServiceTokensController {
  constructor(private readonly service: ServiceTokenService) {}

  /** Issues a token, optionally limited to one tenant and with an expiry. The token is in this answer only. */
  @Post()
  @ApiCreatedResponse({ type: CreatedServiceTokenDto })
  @ApiProblems(400, 413)
  create(@Auth() auth: AuthContext, @Body() dto: CreateServiceTokenDto): Promise<CreatedServiceTokenDto> {
    return this.service.create(auth, dto);
  }

  @Get()
  @ApiOkResponse({ type: [ServiceTokenResponseDto] })
  @ApiProblems(400)
  list(@Query() query: ListServiceTokensQuery): Promise<ServiceTokenResponseDto[]> {
    return this.service.list(query);
  }

  @Get(':tokenId')
  @ApiOkResponse({ type: ServiceTokenResponseDto })
  @ApiProblems(400, 404)
  get(@Param() { tokenId }: ServiceTokenParams): Promise<ServiceTokenResponseDto> {
    return this.service.get(tokenId);
  }

  /** Revokes the token: its next request is a 401. */
  @Delete(':tokenId')
  @ApiOkResponse({ type: ServiceTokenResponseDto })
  @ApiProblems(400, 404)
  revoke(
    @Auth() auth: AuthContext,
    @Param() { tokenId }: ServiceTokenParams,
  ): Promise<ServiceTokenResponseDto> {
    return this.service.revoke(auth, tokenId);
  }
}
