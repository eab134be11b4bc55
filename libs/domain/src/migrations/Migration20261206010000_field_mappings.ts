import { Migration } from '@mikro-orm/migrations';

/** A tenant's field mapping per connection and object, and the CRM fields each connection described. */
export class Migration20261206010000_field_mappings extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "field_mappings" ("id" uuid not null, "connection_id" uuid not null, "object" text not null, "mapping" jsonb not null, "version" int not null default 1, "updated_by" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "field_mappings_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "field_mappings" add constraint "field_mappings_connection_id_object_unique" unique ("connection_id", "object");`,
    );
    this.addSql(
      `create table "crm_field_caches" ("id" uuid not null, "connection_id" uuid not null, "object" text not null, "fields" jsonb not null, "fetched_at" timestamptz not null, constraint "crm_field_caches_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "crm_field_caches" add constraint "crm_field_caches_connection_id_object_unique" unique ("connection_id", "object");`,
    );
    this.addSql(
      `alter table "field_mappings" add constraint "field_mappings_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "crm_field_caches" add constraint "crm_field_caches_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "crm_field_caches" cascade;`);
    this.addSql(`drop table if exists "field_mappings" cascade;`);
  }
}
