import { Controller, Get, HttpCode, Inject, ServiceUnavailableException, UseFilters } from '@nestjs/common';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { MikroORM } from '@mikro-orm/postgresql';
import { CRM_ORM } from '../database/crm-database';

@ApiTags('health')
@UseFilters(ProblemDetailsFilter)
@Controller('health')
export class HealthController {
  constructor(@Inject(CRM_ORM) private readonly orm: MikroORM) {}

  @Get()
  @HttpCode(200)
  @ApiOkResponse({ description: 'The service is up and its database reachable' })
  async health(): Promise<{ status: 'ok'; database: 'up' }> {
    const reachable = await this.orm.isConnected().catch(() => false);
    const answered =
      reachable &&
      (await this.orm.em
        .getConnection()
        .execute('select 1')
        .then(
          () => true,
          () => false,
        ));
    if (!answered) throw new ServiceUnavailableException('The database is not reachable');
    return { status: 'ok', database: 'up' };
  }
}
