import { Inject } from '@nestjs/common';
import { EntityManager, MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { CRM_ORM } from '../database/crm-database';

/**
 * Repositories hold every query; services hold the logic. Two kinds of method:
 * - request-scoped ones use `em`, the current request context's fork (the ORM refuses the global one), so a
 *   service may change what they return and `flush()` at the end of the request's work;
 * - those called from workers and the scheduler (outside any request) use `fork()` and finish their write before
 *   returning, so nothing is shared between runs.
 */
export abstract class CrmRepository {
  constructor(@Inject(CRM_ORM) protected readonly orm: MikroORM) {}

  protected get em(): EntityManager {
    return this.orm.em as EntityManager;
  }

  protected fork(): EntityManager {
    return this.orm.em.fork() as EntityManager;
  }

  async flush(): Promise<void> {
    await this.em.flush();
  }

  /** Runs `work` in a context of its own (for request-scoped methods called outside a request, e.g. by sync). */
  inOwnContext<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.create(this.orm.em, work);
  }

  /**
   * Runs `work` in the current request's ORM context, or in one of its own outside a request (an AdminJS action,
   * the CLI, a host's job): for services callable from anywhere.
   */
  inContext<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.getEntityManager(this.orm.em.name) ? work() : this.inOwnContext(work);
  }
}
