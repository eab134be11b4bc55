import { Migration } from '@mikro-orm/migrations';

/** Where each connection's CRM change stream resumes, per channel (see ChangeStreamPosition). */
export class Migration20261206100000_change_stream_positions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "change_stream_positions" ("id" uuid not null, "connection_id" uuid not null, "channel" text not null, "position" text null, "gap_detected_at" timestamptz null, "updated_at" timestamptz not null, constraint "change_stream_positions_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "change_stream_positions" add constraint "change_stream_positions_connection_id_channel_unique" unique ("connection_id", "channel");`,
    );
    this.addSql(
      `alter table "change_stream_positions" add constraint "change_stream_positions_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "change_stream_positions" cascade;`);
  }
}
