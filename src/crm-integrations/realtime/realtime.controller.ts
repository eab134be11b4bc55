import { Get, Param } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ApiProblems } from '../http/api-problems.decorator';
import { CrmApiController } from '../http/crm-api-controller.decorator';
import { RealtimeStatusDto } from './realtime.dto';
import { RealtimeStatusService } from './realtime-status.service';

@CrmApiController('tenants/:tenantId/connections', 'real-time')
export class RealtimeController {
  constructor(private readonly status: RealtimeStatusService) {}

  @Get(':connectionId/realtime')
  @ApiOkResponse({
    type: RealtimeStatusDto,
    description: 'Real-time on or off, and the end-to-end lag p50/p95',
  })
  @ApiProblems(400, 404)
  get(
    @Param('tenantId') tenantId: string,
    @Param('connectionId') connectionId: string,
  ): Promise<RealtimeStatusDto> {
    return this.status.status(tenantId, connectionId);
  }
}
