import { Migration } from '@mikro-orm/migrations';

/** Which process follows each connection's CRM change stream (see ChangeStreamLease). */
export class Migration20261207160000_change_stream_leases extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "change_stream_leases" ("connection_id" uuid not null, "holder" text not null, "expires_at" timestamptz not null, constraint "change_stream_leases_pkey" primary key ("connection_id"));`,
    );
    this.addSql(
      `alter table "change_stream_leases" add constraint "change_stream_leases_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "change_stream_leases" cascade;`);
  }
}
