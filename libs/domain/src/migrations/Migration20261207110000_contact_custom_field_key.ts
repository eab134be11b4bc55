import { Migration } from '@mikro-orm/migrations';

/**
 * A mapping may match contacts on one of their custom fields (a CRM external id): the inbound sync looks a page's
 * key values up by containment (`custom_fields @> '{"externalId": "X"}'`), which this index answers.
 */
export class Migration20261207110000_contact_custom_field_key extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "contacts_custom_fields_index" on "contacts" using gin ("custom_fields" jsonb_path_ops);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "contacts_custom_fields_index";`);
  }
}
