import { Migration } from '@mikro-orm/migrations';

/**
 * PenguinMails companies, the local side of company sync: one per tenant and key (the domain, else the
 * normalised name), soft-deleted so the next sync sees a deletion.
 */
export class Migration20261206020000_companies extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "companies" ("id" uuid not null, "tenant_id" text not null, "name" text not null, "domain" text null, "key" text not null, "name_key" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "companies_pkey" primary key ("id"), constraint companies_name_present check (btrim(name) <> ''));`,
    );
    this.addSql(
      `create index "companies_tenant_id_updated_at_index" on "companies" ("tenant_id", "updated_at");`,
    );
    this.addSql(
      `create index "companies_tenant_id_name_key_index" on "companies" ("tenant_id", "name_key");`,
    );
    this.addSql(
      `alter table "companies" add constraint "companies_tenant_id_key_unique" unique ("tenant_id", "key");`,
    );
    this.addSql(
      `alter table "companies" add constraint "companies_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "companies" cascade;`);
  }
}
