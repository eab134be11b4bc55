import { Controller, Get, HttpCode, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../http/api-problems.decorator';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { DatabaseHealthRepository } from '../repositories';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ enum: ['up'] }) database!: 'up';
}

@ApiTags('health')
@UseFilters(ProblemDetailsFilter)
@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseHealthRepository) {}

  @Get()
  @HttpCode(200)
  @ApiOkResponse({ type: HealthDto, description: 'The service is up and its database reachable' })
  @ApiProblems([503, 'The database is not reachable'])
  async health(): Promise<{ status: 'ok'; database: 'up' }> {
    if (!(await this.database.answers()))
      throw new ServiceUnavailableException('The database is not reachable');
    return { status: 'ok', database: 'up' };
  }
}
