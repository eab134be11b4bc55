import { Migration } from '@mikro-orm/migrations';

/** Service tokens get an expiry and the name of who issued them. */
export class Migration20261206040000_service_token_expiry extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "service_tokens" add column "created_by" text null, add column "expires_at" timestamptz null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "service_tokens" drop column "created_by", drop column "expires_at";`);
  }
}
