import { Migration } from '@mikro-orm/migrations';

/** The retention pass: how far it deleted (see RetentionMark), and the age indexes it deletes by. */
export class Migration20261207170000_retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "retention_marks" ("name" text not null, "through_id" bigint not null, "updated_at" timestamptz not null, constraint "retention_marks_pkey" primary key ("name"));`,
    );
    this.addSql(`create index "sync_log_entries_at_index" on "sync_log_entries" ("at");`);
    this.addSql(`create index "contact_changes_occurred_at_index" on "contact_changes" ("occurred_at");`);
    this.addSql(`create index "webhook_deliveries_created_at_index" on "webhook_deliveries" ("created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "webhook_deliveries_created_at_index";`);
    this.addSql(`drop index "contact_changes_occurred_at_index";`);
    this.addSql(`drop index "sync_log_entries_at_index";`);
    this.addSql(`drop table if exists "retention_marks" cascade;`);
  }
}
