import { Inject } from '@nestjs/common';
import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { CRM_ORM } from '../database/crm-database';

/**
 * Repositories hold every query; services hold the logic. `em` resolves to the current request context's fork
 * (the ORM refuses the global one), so callers outside HTTP wrap work in `RequestContext.create`.
 */
export abstract class CrmRepository {
  constructor(@Inject(CRM_ORM) protected readonly orm: MikroORM) {}

  protected get em(): EntityManager {
    return this.orm.em as EntityManager;
  }

  async flush(): Promise<void> {
    await this.em.flush();
  }
}
