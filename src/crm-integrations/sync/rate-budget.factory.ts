import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { DailyExhaustedBehaviour, RateBudget } from '@pm/connector-kit';
import type { RateLimitPolicy } from '@pm/integration-port';
import { CRM_ORM } from '../database/crm-database';
import { PgRateBudget, type PgRateBudgetOptions } from '../rate-limits/pg-rate-budget';

/**
 * The key of the rate budget a connection spends from: its CRM account (every connection to one account shares the
 * account's limits), or the connection itself before the account is known. Every path that calls a CRM uses this
 * one key, so sync, push, real-time, activity delivery and mapping discovery pace together.
 */
export function budgetAccountKey(connection: {
  id: string;
  provider: string;
  crmAccountId?: string | null;
}): string {
  return `${connection.provider}:${connection.crmAccountId ?? connection.id}`;
}

/**
 * Hands out each CRM account's one rate budget, kept in PostgreSQL and shared by every worker. A factory, so the
 * executor holds no database handle and its tests can give it an in-memory budget.
 */
@Injectable()
export class RateBudgetFactory {
  constructor(@Inject(CRM_ORM) private readonly orm: MikroORM) {}

  forAccount(
    accountKey: string,
    policies: readonly RateLimitPolicy[],
    options: { whenDailyExhausted: DailyExhaustedBehaviour } & Pick<PgRateBudgetOptions, 'now' | 'sleep'>,
  ): RateBudget {
    return new PgRateBudget(this.orm, accountKey, policies, options);
  }
}
