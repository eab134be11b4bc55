import { Migration } from '@mikro-orm/migrations';

/** A third AdminJS role: a viewer looks at its tenant's screens (or every tenant's) and changes nothing. */
export class Migration20261206050000_admin_viewer_role extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "admin_users" drop constraint if exists "admin_users_role_check";`);
    this.addSql(
      `alter table "admin_users" add constraint "admin_users_role_check" check ("role" in ('superadmin', 'tenant_admin', 'viewer'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "admin_users" where "role" = 'viewer';`);
    this.addSql(`alter table "admin_users" drop constraint if exists "admin_users_role_check";`);
    this.addSql(
      `alter table "admin_users" add constraint "admin_users_role_check" check ("role" in ('superadmin', 'tenant_admin'));`,
    );
  }
}
