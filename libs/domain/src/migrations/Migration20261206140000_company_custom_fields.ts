import { Migration } from '@mikro-orm/migrations';

/** A company's own custom fields (`customFields.<name>` in a company mapping), as contacts have theirs. */
export class Migration20261206140000_company_custom_fields extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "companies" add column "custom_fields" jsonb not null default '{}';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "companies" drop column "custom_fields";`);
  }
}
