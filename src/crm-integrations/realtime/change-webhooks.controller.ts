import { Controller, HttpCode, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiProblems } from '../http/api-problems.decorator';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { ChangeWebhookReceiver, type IncomingWebhook } from './change-webhook-receiver.service';
import { WebhookAcceptedDto } from './realtime.dto';

const RAW_BODY = { schema: { type: 'string', format: 'binary' } } as const;

/** Where CRMs send change events. No service token: each request proves itself by the CRM's signature. */
@ApiTags('CRM webhooks (inbound)')
@Controller('webhooks')
@UseFilters(ProblemDetailsFilter)
export class ChangeWebhooksController {
  constructor(private readonly receiver: ChangeWebhookReceiver) {}

  @Post('hubspot')
  @HttpCode(202)
  @ApiOperation({
    summary: "HubSpot's app webhook (v3 signature and timestamp checked before the body is read)",
  })
  @ApiConsumes('application/json')
  @ApiBody(RAW_BODY)
  @ApiAcceptedResponse({ type: WebhookAcceptedDto })
  @ApiProblems(
    [400, 'The body is not a HubSpot webhook'],
    [401, 'The signature or timestamp is missing, wrong or too old'],
    [404, 'HubSpot webhooks are not configured on this service'],
    413,
  )
  hubspot(@Req() request: Request): Promise<WebhookAcceptedDto> {
    return this.receiver.hubspot(request as IncomingWebhook);
  }

  @Post('pipedrive/:connectionId')
  @HttpCode(202)
  @ApiOperation({ summary: "A connection's Pipedrive webhook (its HTTP Basic credentials checked first)" })
  @ApiParam({ name: 'connectionId', format: 'uuid' })
  @ApiConsumes('application/json')
  @ApiBody(RAW_BODY)
  @ApiAcceptedResponse({ type: WebhookAcceptedDto })
  @ApiProblems(
    [400, 'The body is not a Pipedrive webhook v2.0 event'],
    [401, 'The credentials are missing or wrong (the same answer whether or not the connection exists)'],
    413,
  )
  pipedrive(
    @Param('connectionId') connectionId: string,
    @Req() request: Request,
  ): Promise<WebhookAcceptedDto> {
    return this.receiver.pipedrive(connectionId, request as IncomingWebhook);
  }
}
