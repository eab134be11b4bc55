import { Migration } from '@mikro-orm/migrations';

/** OAuth authorizations in flight (the connect flow's single-use, expiring `state`). */
export class Migration20261124100000_oauth_states extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "oauth_states" ("id" uuid not null, "state_hash" text not null, "tenant_id" text not null, "provider" text not null, "connection_id" uuid null, "start_over" boolean not null default false, "key_id" text null, "code_verifier" text null, "return_to" text null, "actor" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "oauth_states_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "oauth_states" add constraint "oauth_states_state_hash_unique" unique ("state_hash");`,
    );
    this.addSql(`create index "oauth_states_expires_at_index" on "oauth_states" ("expires_at");`);
    this.addSql(
      `alter table "oauth_states" add constraint "oauth_states_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "oauth_states" cascade;`);
  }
}
