import { Migration } from '@mikro-orm/migrations';

/**
 * The service API for the PenguinMails backend: stored answers for `Idempotency-Key`, the contact change feed (CRM
 * side changes, in commit order per tenant), and outbound webhooks (one endpoint per tenant, its deliveries).
 */
export class Migration20261206030000_contact_feed_webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "idempotency_keys" ("id" uuid not null, "tenant_id" text not null, "scope" text not null, "key" text not null, "request_hash" text not null, "response_status" int null, "response_body" jsonb null, "created_at" timestamptz not null, "expires_at" timestamptz not null, constraint "idempotency_keys_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "idempotency_keys_expires_at_index" on "idempotency_keys" ("expires_at");`);
    this.addSql(
      `alter table "idempotency_keys" add constraint "idempotency_keys_tenant_id_scope_key_unique" unique ("tenant_id", "scope", "key");`,
    );
    this.addSql(
      `create table "contact_changes" ("id" bigserial primary key, "tenant_id" text not null, "contact_id" uuid not null, "connection_id" uuid null, "provider" text null, "kind" text check ("kind" in ('created', 'updated', 'deleted')) not null, "email" text not null, "fields" jsonb not null, "values" jsonb not null, "occurred_at" timestamptz not null);`,
    );
    this.addSql(
      `create index "contact_changes_tenant_id_id_index" on "contact_changes" ("tenant_id", "id");`,
    );
    this.addSql(
      `create table "webhook_deliveries" ("id" uuid not null, "tenant_id" text not null, "body" text not null, "first_change_id" bigint not null, "last_change_id" bigint not null, "status" text check ("status" in ('pending', 'delivered', 'failed')) not null default 'pending', "attempts" int not null default 0, "last_error" text null, "last_status_code" int null, "next_attempt_at" timestamptz null, "created_at" timestamptz not null, "last_attempt_at" timestamptz null, "delivered_at" timestamptz null, constraint "webhook_deliveries_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "webhook_deliveries_status_next_attempt_at_index" on "webhook_deliveries" ("status", "next_attempt_at");`,
    );
    this.addSql(
      `create index "webhook_deliveries_tenant_id_created_at_index" on "webhook_deliveries" ("tenant_id", "created_at");`,
    );
    this.addSql(
      `create table "webhook_endpoints" ("id" uuid not null, "tenant_id" text not null, "url" text not null, "secret" jsonb not null, "previous_secret" jsonb null, "previous_secret_expires_at" timestamptz null, "feed_position" bigint not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "webhook_endpoints_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "webhook_endpoints" add constraint "webhook_endpoints_tenant_id_unique" unique ("tenant_id");`,
    );
    this.addSql(
      `alter table "contact_changes" add constraint "contact_changes_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "webhook_deliveries" add constraint "webhook_deliveries_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "webhook_endpoints" add constraint "webhook_endpoints_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_deliveries" cascade;`);
    this.addSql(`drop table if exists "webhook_endpoints" cascade;`);
    this.addSql(`drop table if exists "contact_changes" cascade;`);
    this.addSql(`drop table if exists "idempotency_keys" cascade;`);
  }
}
