import { Body, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, type AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { TenantParams } from '../tenants/tenant.dto';
import {
  DeliveryParams,
  ListDeliveriesQuery,
  RotateWebhookSecretDto,
  SetWebhookEndpointDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookEndpointDto,
  WebhookSecretDto,
} from './webhook.dto';
import { WebhookService } from './webhook.service';

@CrmApiController('tenants/:tenantId/webhook', 'webhooks')
export class WebhooksController {
  constructor(private readonly service: WebhookService) {}

  @Get()
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiProblems(404)
  get(@Auth() auth: AuthContext, @Param() { tenantId }: TenantParams): Promise<WebhookEndpointDto> {
    return this.service.get(auth, tenantId);
  }

  /** Sets the URL: 201 with the signing secret (shown once) when new, 200 with the endpoint when changed. */
  @Put()
  @ApiCreatedResponse({ type: WebhookSecretDto, description: 'New endpoint: the secret, shown once' })
  @ApiOkResponse({ type: WebhookEndpointDto, description: 'URL changed; the secret stays' })
  @ApiProblems(400, 413)
  async set(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: SetWebhookEndpointDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<WebhookSecretDto | WebhookEndpointDto> {
    const { created, body } = await this.service.set(auth, tenantId, dto);
    response.status(created ? 201 : 200);
    return body;
  }

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblems(404)
  remove(@Auth() auth: AuthContext, @Param() { tenantId }: TenantParams): Promise<void> {
    return this.service.remove(auth, tenantId);
  }

  /** A new signing secret (shown once); the previous one signs a second v1 during the overlap. */
  @Post('rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiProblems(400, 404, 413)
  rotate(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Body() dto: RotateWebhookSecretDto,
  ): Promise<WebhookSecretDto> {
    return this.service.rotate(auth, tenantId, dto);
  }

  @Get('deliveries')
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiProblems(400)
  deliveries(
    @Auth() auth: AuthContext,
    @Param() { tenantId }: TenantParams,
    @Query() query: ListDeliveriesQuery,
  ): Promise<WebhookDeliveryPageDto> {
    return this.service.deliveries(auth, tenantId, query);
  }

  /** Sends the delivery again now (same body, fresh signature) and answers its state after the attempt. */
  @Post('deliveries/:deliveryId/redeliver')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookDeliveryDto })
  @ApiProblems(404)
  redeliver(@Auth() auth: AuthContext, @Param() params: DeliveryParams): Promise<WebhookDeliveryDto> {
    return this.service.redeliver(auth, params.tenantId, params.deliveryId);
  }
}
