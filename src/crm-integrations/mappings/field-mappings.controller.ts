import { Body, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import {
  CrmObjectFieldsDto,
  FieldMappingResponseDto,
  FieldsQuery,
  MappingParams,
  MappingPreviewResponseDto,
  MappingQuery,
  ObjectMappingDto,
  PreviewMappingDto,
} from './field-mapping.dto';
import { FieldMappingService } from './field-mapping.service';

/** The seed's "Map Fields": a connection's mappings, its CRM's fields, and a preview before saving. */
@CrmApiController('tenants/:tenantId/connections/:connectionId', 'field mappings')
@ApiProblems(400, 401, 404, 502, 503)
export class FieldMappingsController {
  constructor(private readonly service: FieldMappingService) {}

  /** The mapping of each object the connection syncs (the connector's defaults until one is saved). */
  @Get('mappings')
  @ApiOkResponse({ type: [FieldMappingResponseDto] })
  list(
    @Auth() auth: AuthContext,
    @Param() params: MappingParams,
    @Query() query: MappingQuery,
  ): Promise<FieldMappingResponseDto[]> {
    return this.service.list(auth, params.tenantId, params.connectionId, query.object);
  }

  /** Saves one object's mapping after validating it against the CRM's fields; applies from the next run. */
  @Put('mappings')
  @ApiOkResponse({ type: FieldMappingResponseDto })
  @ApiProblems(413)
  save(
    @Auth() auth: AuthContext,
    @Param() params: MappingParams,
    @Body() dto: ObjectMappingDto,
  ): Promise<FieldMappingResponseDto> {
    return this.service.save(auth, params.tenantId, params.connectionId, dto);
  }

  /** The CRM's fields (custom ones included), from the connection's cache unless `refresh=true`. */
  @Get('fields')
  @ApiOkResponse({ type: [CrmObjectFieldsDto] })
  fields(
    @Auth() auth: AuthContext,
    @Param() params: MappingParams,
    @Query() query: FieldsQuery,
  ): Promise<CrmObjectFieldsDto[]> {
    return this.service.fields(auth, params.tenantId, params.connectionId, query);
  }

  /** A saved or proposed mapping tried on a real record from either side, field by field. */
  @Post('mappings/preview')
  @HttpCode(200)
  @ApiOkResponse({ type: MappingPreviewResponseDto })
  @ApiProblems(413)
  preview(
    @Auth() auth: AuthContext,
    @Param() params: MappingParams,
    @Body() dto: PreviewMappingDto,
  ): Promise<MappingPreviewResponseDto> {
    return this.service.preview(auth, params.tenantId, params.connectionId, dto);
  }
}
