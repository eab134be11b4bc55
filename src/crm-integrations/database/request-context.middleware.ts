import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { CRM_ORM } from './crm-database';

/** Gives each API request its own identity map, so no entity leaks from one request (or tenant) to another. */
@Injectable()
export class CrmRequestContextMiddleware implements NestMiddleware {
  constructor(@Inject(CRM_ORM) private readonly orm: MikroORM) {}

  use(_req: unknown, _res: unknown, next: (error?: unknown) => void): void {
    RequestContext.create(this.orm.em, next);
  }
}
