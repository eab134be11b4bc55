import { ForbiddenException, NotFoundException } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import type { CrmAdminIdentity } from '../admin/admin-identity';
import type { AuthContext } from '../auth/auth-context';
import type { ScreensRepository } from '../repositories';

/**
 * The tenant an identity may look at: its own (a request for another is refused), or for a platform admin the one
 * asked for, else every tenant (null).
 */
export function screenScope(identity: CrmAdminIdentity, tenantId?: string): string | null {
  if (identity.tenantId !== null) {
    if (tenantId && tenantId !== identity.tenantId) {
      throw new ForbiddenException('That tenant is outside your access');
    }
    return identity.tenantId;
  }
  return tenantId || null;
}

/** Who changes something, as the services audit it; a viewer changes nothing. */
export function changerOf(identity: CrmAdminIdentity): AuthContext {
  if (identity.role === 'viewer') throw new ForbiddenException('A viewer cannot change anything');
  return { actor: `admin:${identity.email}`, tenantId: identity.tenantId };
}

/** A connection within the identity's tenant (any, for a platform admin), or 404. */
export async function findScreenConnection(
  screens: ScreensRepository,
  identity: CrmAdminIdentity,
  connectionId: string,
): Promise<CrmConnection> {
  const connection = /^[0-9a-f-]{36}$/i.test(connectionId)
    ? await screens.findConnection({ tenantId: identity.tenantId }, connectionId)
    : null;
  if (!connection) throw new NotFoundException('This connection does not exist or is outside your tenant');
  return connection;
}
