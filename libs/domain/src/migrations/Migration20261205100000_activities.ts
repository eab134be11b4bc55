import { Migration } from '@mikro-orm/migrations';

/**
 * E-mail activity logging: the events PenguinMails reports (one per tenant and event id), each event's delivery
 * into each connection's CRM, and the CRM record a message's opens and clicks are rolled up into.
 */
export class Migration20261205100000_activities extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "activity_events" ("id" uuid not null, "tenant_id" text not null, "event_id" text not null, "type" text check ("type" in ('sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'unsubscribed')) not null, "message_id" text not null, "campaign_id" text null, "email" text not null, "subject" text null, "occurred_at" timestamptz not null, "url" text null, "snippet" text null, "bounce_type" text check ("bounce_type" in ('hard', 'soft')) null, "reason" text null, "received_at" timestamptz not null, constraint "activity_events_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "activity_events_tenant_id_message_id_index" on "activity_events" ("tenant_id", "message_id");`,
    );
    this.addSql(
      `alter table "activity_events" add constraint "activity_events_tenant_id_event_id_unique" unique ("tenant_id", "event_id");`,
    );
    this.addSql(
      `create table "activity_deliveries" ("id" uuid not null, "connection_id" uuid not null, "event_id" uuid not null, "status" text check ("status" in ('pending', 'held', 'delivered', 'failed', 'skipped')) not null default 'pending', "attempts" int not null default 0, "last_error" text null, "crm_id" text null, "created_at" timestamptz not null, "last_attempt_at" timestamptz null, "delivered_at" timestamptz null, constraint "activity_deliveries_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "activity_deliveries_connection_id_status_index" on "activity_deliveries" ("connection_id", "status");`,
    );
    this.addSql(
      `alter table "activity_deliveries" add constraint "activity_deliveries_connection_id_event_id_unique" unique ("connection_id", "event_id");`,
    );
    this.addSql(
      `create table "activity_message_records" ("id" uuid not null, "connection_id" uuid not null, "message_id" text not null, "crm_id" text not null, "opens" int not null default 0, "clicks" int not null default 0, "last_event_at" timestamptz null, "updated_at" timestamptz not null, constraint "activity_message_records_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "activity_message_records" add constraint "activity_message_records_connection_id_message_id_unique" unique ("connection_id", "message_id");`,
    );
    this.addSql(
      `alter table "activity_message_records" add constraint "activity_message_records_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "activity_events" add constraint "activity_events_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "activity_deliveries" add constraint "activity_deliveries_connection_id_foreign" foreign key ("connection_id") references "crm_connections" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "activity_deliveries" add constraint "activity_deliveries_event_id_foreign" foreign key ("event_id") references "activity_events" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "activity_message_records" cascade;`);
    this.addSql(`drop table if exists "activity_deliveries" cascade;`);
    this.addSql(`drop table if exists "activity_events" cascade;`);
  }
}
