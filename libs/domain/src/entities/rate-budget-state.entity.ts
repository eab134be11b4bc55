import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One CRM account's rate budget, shared by every worker process: the current window's and day's spend, and any
 * pause the CRM asked for (Retry-After). Rows are updated under a row lock (`PgRateBudget`).
 */
@Entity({ tableName: 'rate_budgets' })
export class RateBudgetState {
  /** `provider:crm account id`: the unit the CRM limits (a Salesforce org, a HubSpot portal). */
  @PrimaryKey({ type: 'text' })
  key!: string;

  @Property({ type: 'integer', nullable: true })
  windowLimit?: number | null;

  @Property({ type: 'integer', nullable: true })
  windowMs?: number | null;

  /**
   * Epoch ms of each call granted in the last window: a sliding log, because CRMs count rolling windows and a fixed
   * or token-bucket window lets twice the limit through around a boundary.
   */
  @Property({ type: 'json', default: '[]' })
  windowGrants: number[] & Opt = [];

  @Property({ type: 'integer', nullable: true })
  dailyLimit?: number | null;

  /** Start of the UTC day `dailyUsed` counts for. */
  @Property({ type: 'datetime', nullable: true })
  dayStartedAt?: Date | null;

  @Property({ type: 'integer', default: 0 })
  dailyUsed: number & Opt = 0;

  @Property({ type: 'datetime', nullable: true })
  pausedUntil?: Date | null;

  @Property({ type: 'datetime' })
  updatedAt: Date & Opt = new Date();
}
