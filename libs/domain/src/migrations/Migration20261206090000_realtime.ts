import { Migration } from '@mikro-orm/migrations';

/** Real-time sync: the change hints waiting for (and applied by) a targeted sync, and each connection's channel. */
export class Migration20261206090000_realtime extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "change_hints" ("id" uuid not null, "connection_id" uuid not null, "object" text not null, "crm_id" text not null, "action" text not null, "event_id" text null, "occurred_at" timestamptz not null, "received_at" timestamptz not null, "applied_at" timestamptz null, "lag_ms" int null, "outcome" text null, constraint "change_hints_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "change_hints_connection_applied_index" on "change_hints" ("connection_id", "applied_at");`,
    );
    this.addSql(
      `alter table "change_hints" add constraint "change_hints_event_unique" unique ("connection_id", "object", "crm_id", "event_id");`,
    );
    this.addSql(
      `alter table "change_hints" add constraint "change_hints_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create table "realtime_channels" ("id" uuid not null, "connection_id" uuid not null, "key_id" text not null, "sealed" text not null, "webhook_ids" jsonb not null, "registered_at" timestamptz null, "created_at" timestamptz not null, constraint "realtime_channels_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "realtime_channels" add constraint "realtime_channels_connection_id_unique" unique ("connection_id");`,
    );
    this.addSql(
      `alter table "realtime_channels" add constraint "realtime_channels_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "realtime_channels" cascade;`);
    this.addSql(`drop table if exists "change_hints" cascade;`);
  }
}
