import { Inject } from '@nestjs/common';
import { EntityManager, MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { CRM_ORM } from '../database/crm-database';

/** A column `insertRows` fills: its name and PostgreSQL type (`jsonb` values go as JSON, `jsonb?` null as NULL). */
export type RowColumn = readonly [name: string, type: string];

/**
 * Rows as one `insert … select` whose values travel as one JSON parameter (an array of arrays, in `columns`
 * order), and `shared` values (one for every row) once each. MikroORM's `insertMany` inlines every value as its own
 * SQL literal (a date formatted, a JSON value stringified and escaped, each row's data validated and walked): for
 * a sync page of thousands of rows that cost more than the database's work. Rows keep their array order (a
 * bigserial id follows it); dates go as ISO instants. `onConflict`: a clause appended as is (an upsert).
 */
export async function insertRows(
  em: EntityManager,
  table: string,
  shared: ReadonlyArray<readonly [name: string, type: string, value: unknown]>,
  columns: readonly RowColumn[],
  rows: unknown[][],
  onConflict = '',
): Promise<void> {
  if (rows.length === 0) return;
  const names = [...shared.map(([name]) => name), ...columns.map(([name]) => name)];
  const values = [
    ...shared.map(([, type]) => `?::${type}`),
    ...columns.map(([, type], i) =>
      type === 'jsonb'
        ? `r.e->${i}`
        : type === 'jsonb?'
          ? `nullif(r.e->${i}, 'null')`
          : `(r.e->>${i})::${type}`,
    ),
  ];
  await em.execute(
    `insert into "${table}" (${names.map((name) => `"${name}"`).join(', ')}) select ${values.join(', ')} ` +
      `from jsonb_array_elements(?::jsonb) with ordinality as r(e, n) order by r.n` +
      (onConflict ? ` ${onConflict}` : ''),
    [...shared.map(([, , value]) => value), JSON.stringify(rows)],
  );
}

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
