import { Migration } from '@mikro-orm/migrations';

/** Per CRM account rate budgets shared by all workers. */
export class Migration20261124110000_rate_budgets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "rate_budgets" ("key" text not null, "window_limit" int null, "window_ms" int null, "window_grants" jsonb not null default '[]', "daily_limit" int null, "day_started_at" timestamptz null, "daily_used" int not null default 0, "paused_until" timestamptz null, "updated_at" timestamptz not null, constraint "rate_budgets_pkey" primary key ("key"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_budgets" cascade;`);
  }
}
