import type { AdminRole } from '@pm/domain';

/**
 * Who is acting in AdminJS, as the CRM screens see it. `tenantId` set: limited to that tenant's rows. `tenantId`
 * null: sees every tenant. A `viewer` (of one tenant or of all) looks and changes nothing.
 */
export interface CrmAdminIdentity {
  email: string;
  role: AdminRole;
  tenantId: string | null;
}

/** What our own login puts into the AdminJS session (`currentAdmin`). */
export interface CrmCurrentAdmin {
  id: string;
  email: string;
  title: string;
  role: AdminRole;
  tenantId: string | null;
  [key: string]: unknown;
}

/** Maps the host's `currentAdmin` onto a CRM identity; null refuses every CRM screen. */
export type CrmAdminResolver = (currentAdmin: Record<string, unknown> | undefined) => CrmAdminIdentity | null;

/**
 * The default mapping. Our own logins carry `role` and `tenantId`. A host's admin without a `role` we know is
 * trusted as a superadmin: the host already decided they may use its back office. A `tenant_admin` without a
 * tenant is refused rather than widened.
 */
export const defaultCrmAdminResolver: CrmAdminResolver = (currentAdmin) => {
  const email = typeof currentAdmin?.email === 'string' ? currentAdmin.email : 'anonymous';
  const role = currentAdmin?.role;
  if (role === 'viewer') {
    const tenantId = currentAdmin?.tenantId;
    return {
      email,
      role: 'viewer',
      tenantId: typeof tenantId === 'string' && tenantId !== '' ? tenantId : null,
    };
  }
  if (role === 'tenant_admin') {
    const tenantId = currentAdmin?.tenantId;
    if (typeof tenantId !== 'string' || tenantId === '') return null;
    return { email, role: 'tenant_admin', tenantId };
  }
  return { email, role: 'superadmin', tenantId: null };
};

/** Whether the identity may change anything at all (a viewer may not). */
export function canChange(identity: CrmAdminIdentity | null): identity is CrmAdminIdentity {
  return !!identity && identity.role !== 'viewer';
}

/** The audit trail's actor for an admin: `admin:<email>`. */
export function adminActor(identity: CrmAdminIdentity): string {
  return `admin:${identity.email}`;
}
