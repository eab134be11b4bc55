import { Controller, Get, HttpCode, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { DatabaseHealthRepository } from '../repositories';

@ApiTags('health')
@UseFilters(ProblemDetailsFilter)
@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseHealthRepository) {}

  @Get()
  @HttpCode(200)
  @ApiOkResponse({ description: 'The service is up and its database reachable' })
  async health(): Promise<{ status: 'ok'; database: 'up' }> {
    if (!(await this.database.answers()))
      throw new ServiceUnavailableException('The database is not reachable');
    return { status: 'ok', database: 'up' };
  }
}
