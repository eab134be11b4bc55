import { Migration } from '@mikro-orm/migrations';

/**
 * The whole data model of the first release (see libs/domain/src/entities for what each table is for), plus what
 * entities cannot say: the audit log is append-only at the database.
 */
export class Migration20261124000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_log_entries" ("id" bigserial primary key, "tenant_id" text null, "actor" text not null, "action" text not null, "target_type" text not null, "target_id" text null, "before" jsonb null, "after" jsonb null, "at" timestamptz not null);`,
    );
    this.addSql(
      `create index "audit_log_entries_tenant_id_at_index" on "audit_log_entries" ("tenant_id", "at");`,
    );
    this.addSql(
      `create table "tenants" ("id" text not null, "name" text not null, "active" boolean not null default true, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "tenants_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create table "service_tokens" ("id" uuid not null, "tenant_id" text null, "name" text not null, "token_hash" text not null, "prefix" text not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "service_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "service_tokens" add constraint "service_tokens_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(
      `create table "provider_settings" ("id" uuid not null, "provider" text not null, "tenant_id" text null, "enabled" boolean not null, "note" text null, "updated_at" timestamptz not null, constraint "provider_settings_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create unique index "provider_settings_provider_tenant_unique" on "provider_settings" ("provider", "tenant_id") nulls not distinct;`,
    );
    this.addSql(
      `create table "crm_connections" ("id" uuid not null, "tenant_id" text not null, "provider" text not null, "label" text null, "status" text check ("status" in ('pending', 'connected', 'needs_reconnect', 'error', 'disconnected')) not null default 'pending', "status_reason" text null, "health" text check ("health" in ('healthy', 'degraded', 'paused')) not null default 'healthy', "health_reason" text null, "crm_account_id" text null, "crm_account_name" text null, "crm_user_id" text null, "instance_url" text null, "settings" jsonb not null, "connected_at" timestamptz null, "disconnected_at" timestamptz null, "last_sync_at" timestamptz null, "next_sync_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "crm_connections_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "crm_connections_status_next_sync_at_index" on "crm_connections" ("status", "next_sync_at");`,
    );
    this.addSql(
      `create index "crm_connections_tenant_id_provider_index" on "crm_connections" ("tenant_id", "provider");`,
    );
    this.addSql(
      `create table "sync_runs" ("id" uuid not null, "tenant_id" text not null, "connection_id" uuid not null, "trigger" text not null, "status" text check ("status" in ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')) not null default 'queued', "queued_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "counts" jsonb not null default '{}', "error" text null, "worker_id" text null, constraint "sync_runs_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "sync_runs_tenant_id_queued_at_index" on "sync_runs" ("tenant_id", "queued_at");`,
    );
    this.addSql(
      `create index "sync_runs_connection_id_queued_at_index" on "sync_runs" ("connection_id", "queued_at");`,
    );
    this.addSql(
      `create table "sync_log_entries" ("id" bigserial primary key, "tenant_id" text not null, "connection_id" uuid not null, "run_id" uuid null, "at" timestamptz not null, "direction" text check ("direction" in ('to_crm', 'from_crm', 'none')) not null, "object" text not null, "record_key" text null, "action" text not null, "message" text not null, "details" jsonb null);`,
    );
    this.addSql(
      `create index "sync_log_entries_tenant_id_at_index" on "sync_log_entries" ("tenant_id", "at");`,
    );
    this.addSql(
      `create index "sync_log_entries_connection_id_at_index" on "sync_log_entries" ("connection_id", "at");`,
    );
    this.addSql(
      `create table "sync_cursors" ("id" uuid not null, "connection_id" uuid not null, "object" text not null, "direction" text not null, "value" jsonb null, "initial_sync_completed_at" timestamptz null, "updated_at" timestamptz not null, constraint "sync_cursors_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "sync_cursors" add constraint "sync_cursors_connection_id_object_direction_unique" unique ("connection_id", "object", "direction");`,
    );
    this.addSql(
      `create table "record_links" ("id" uuid not null, "connection_id" uuid not null, "local_object" text not null, "local_id" uuid not null, "crm_object" text not null, "crm_id" text not null, "synced" jsonb not null default '{}', "local_updated_at" timestamptz null, "crm_modified_at" timestamptz null, "last_synced_at" timestamptz null, "unlinked_at" timestamptz null, "unlink_reason" text null, "created_at" timestamptz not null, constraint "record_links_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "record_links_connection_id_local_object_local_id_index" on "record_links" ("connection_id", "local_object", "local_id");`,
    );
    this.addSql(
      `alter table "record_links" add constraint "record_links_connection_id_crm_object_crm_id_unique" unique ("connection_id", "crm_object", "crm_id");`,
    );
    this.addSql(
      `create table "connection_credentials" ("id" uuid not null, "connection_id" uuid not null, "key_id" text not null, "sealed" text not null, "access_token_expires_at" timestamptz null, "refreshed_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "connection_credentials_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "connection_credentials" add constraint "connection_credentials_connection_id_unique" unique ("connection_id");`,
    );
    this.addSql(
      `create table "contacts" ("id" uuid not null, "tenant_id" text not null, "email" text not null, "first_name" text null, "last_name" text null, "company" text null, "title" text null, "phone" text null, "lifecycle_stage" text null, "lead_status" text null, "custom_fields" jsonb not null default '{}', "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "contacts_pkey" primary key ("id"), constraint contacts_email_normalised check (email = lower(btrim(email)) and email <> ''));`,
    );
    this.addSql(
      `create index "contacts_tenant_id_updated_at_index" on "contacts" ("tenant_id", "updated_at");`,
    );
    this.addSql(
      `alter table "contacts" add constraint "contacts_tenant_id_email_unique" unique ("tenant_id", "email");`,
    );
    this.addSql(
      `create table "admin_users" ("id" uuid not null, "email" text not null, "password_hash" text not null, "role" text check ("role" in ('superadmin', 'tenant_admin')) not null default 'superadmin', "tenant_id" text null, "created_at" timestamptz not null, "last_login_at" timestamptz null, constraint "admin_users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "admin_users" add constraint "admin_users_email_unique" unique ("email");`);
    this.addSql(
      `alter table "service_tokens" add constraint "service_tokens_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "provider_settings" add constraint "provider_settings_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "crm_connections" add constraint "crm_connections_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sync_runs" add constraint "sync_runs_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sync_runs" add constraint "sync_runs_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sync_log_entries" add constraint "sync_log_entries_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sync_log_entries" add constraint "sync_log_entries_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sync_log_entries" add constraint "sync_log_entries_run_id_foreign" foreign key ("run_id") references "sync_runs" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "sync_cursors" add constraint "sync_cursors_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "record_links" add constraint "record_links_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "connection_credentials" add constraint "connection_credentials_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "contacts" add constraint "contacts_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "admin_users" add constraint "admin_users_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `create function "audit_log_entries_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit_log_entries is append-only'; end $$;`,
    );
    this.addSql(
      `create trigger "audit_log_entries_no_update_delete" before update or delete on "audit_log_entries" for each row execute function "audit_log_entries_append_only"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `drop table if exists "admin_users", "contacts", "connection_credentials", "record_links", "sync_cursors", "sync_log_entries", "sync_runs", "crm_connections", "provider_settings", "service_tokens", "tenants", "audit_log_entries" cascade;`,
    );
    this.addSql(`drop function if exists "audit_log_entries_append_only"() cascade;`);
  }
}
