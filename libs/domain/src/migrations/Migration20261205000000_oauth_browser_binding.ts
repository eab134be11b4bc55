import { Migration } from '@mikro-orm/migrations';

/**
 * Binds an OAuth state to the browser that opened its start link: the SHA-256 of a random cookie value, set once
 * by GET /oauth/:provider/start. The callback is accepted only with that cookie.
 */
export class Migration20261205000000_oauth_browser_binding extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "oauth_states" add column "browser_binding" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "oauth_states" drop column "browser_binding";`);
  }
}
