import type { MikroORM } from '@mikro-orm/core';
import { AdminUser, hashPassword, normaliseEmail, verifyPassword } from '@pm/domain';
import type { CrmCurrentAdmin } from './admin-identity';

let decoyHash: Promise<string> | undefined;

/**
 * Checks an AdminJS login against the AdminUser table (scrypt). Returns what AdminJS keeps in the session as
 * `currentAdmin`, or null. An unknown e-mail costs the same hash as a wrong password, so timing does not tell
 * which e-mails exist.
 */
export async function authenticateAdminUser(
  orm: MikroORM,
  email: string,
  password: string,
): Promise<CrmCurrentAdmin | null> {
  const em = orm.em.fork();
  const admin = await em.findOne(AdminUser, { email: normaliseEmail(email) }, { populate: ['passwordHash'] });
  if (!admin) {
    decoyHash ??= hashPassword('decoy password that matches nothing');
    await verifyPassword(password, await decoyHash);
    return null;
  }
  if (!(await verifyPassword(password, admin.passwordHash))) return null;
  admin.lastLoginAt = new Date();
  await em.flush();
  const tenantId = admin.tenant ? admin.tenant.id : null;
  return {
    id: admin.id,
    email: admin.email,
    title:
      admin.role === 'tenant_admin'
        ? `Tenant admin (${tenantId})`
        : admin.role === 'viewer'
          ? `Viewer (${tenantId ?? 'all tenants'})`
          : 'Superadmin',
    role: admin.role,
    tenantId,
  };
}
