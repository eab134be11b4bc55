import { Migration } from '@mikro-orm/migrations';

/** What e-mail events said about a contact's address (a hard bounce, an unsubscribe), set by activity ingest. */
export class Migration20261206060000_contact_email_status extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "contacts" add column "email_status" text check ("email_status" in ('bounced', 'unsubscribed')) null, add column "email_status_reason" text null, add column "email_status_at" timestamptz null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "contacts" drop column "email_status", drop column "email_status_reason", drop column "email_status_at";`,
    );
  }
}
