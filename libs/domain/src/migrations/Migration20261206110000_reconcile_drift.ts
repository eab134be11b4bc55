import { Migration } from '@mikro-orm/migrations';

/** A reconcile run's findings (drift counts per object and kind); null on every other run. */
export class Migration20261206110000_reconcile_drift extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sync_runs" add column "drift" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sync_runs" drop column "drift";`);
  }
}
