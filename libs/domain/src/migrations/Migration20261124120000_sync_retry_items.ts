import { Migration } from '@mikro-orm/migrations';

/** Records a sync run could not apply, tried again at the start of the next run (see SyncRetryItem). */
export class Migration20261124120000_sync_retry_items extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sync_retry_items" ("id" uuid not null, "connection_id" uuid not null, "direction" text check ("direction" in ('to_crm', 'from_crm')) not null, "object" text not null, "record_id" text not null, "record_key" text null, "last_error" text not null, "attempts" int not null default 1, "payload" jsonb null, "first_failed_at" timestamptz not null, "last_failed_at" timestamptz not null, constraint "sync_retry_items_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "sync_retry_items_connection_id_direction_index" on "sync_retry_items" ("connection_id", "direction");`,
    );
    this.addSql(
      `alter table "sync_retry_items" add constraint "sync_retry_items_connection_id_direction_object_r_1b095_unique" unique ("connection_id", "direction", "object", "record_id");`,
    );
    this.addSql(
      `alter table "sync_retry_items" add constraint "sync_retry_items_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sync_retry_items" cascade;`);
  }
}
