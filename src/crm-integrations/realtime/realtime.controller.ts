import { Get, Param } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ConnectionParams } from '../connections/connection.dto';
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
  get(@Param() { tenantId, connectionId }: ConnectionParams): Promise<RealtimeStatusDto> {
    return this.status.status(tenantId, connectionId);
  }
}
