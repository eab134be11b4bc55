import { ReferenceKind, wrap, type EntityManager, type EntityProperty } from '@mikro-orm/core';
import type { CrmAdminIdentity } from './admin-identity';
import type { AdminJsRuntime } from './adminjs-runtime';

/** Changes an admin may make to a resource's rows (reading is decided by `read`). */
export type CrmAdminOperation = 'read' | 'create' | 'edit' | 'delete';

/** How a row belongs to a tenant; null: platform data that only superadmins see. */
export type TenantPath = 'tenant' | 'id' | 'tenantId' | 'connection.tenant';

// A plain entity class; the constructor's arity is irrelevant because AdminJS never builds entities itself.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor signature must fit
export type EntityClass = new (...args: any[]) => object;

export interface CrmWriteInput {
  /** The raw (flattened) form values AdminJS sent, virtual fields included. */
  params: Record<string, unknown>;
  /** The parsed values of the entity's own editable properties, about to be assigned; may be changed. */
  data: Record<string, unknown>;
  identity: CrmAdminIdentity;
  isNew: boolean;
  /** Extra facts for the audit entry (never secrets): `{ passwordChanged: true }`. */
  auditNotes: Record<string, unknown>;
}

export interface CrmResourcePolicy {
  entity: EntityClass;
  /** The AdminJS resource id (also its URL segment): prefixed so it never clashes with a host's own resources. */
  resourceId: string;
  tenantPath: TenantPath | null;
  permissions: { superadmin: CrmAdminOperation[]; tenant_admin: CrmAdminOperation[] };
  /** Tenant ids are the workspace ids PenguinMails already uses, so they are typed in on creation. */
  primaryKeyEditableOnCreate?: boolean;
  /**
   * Properties only the system sets (the OAuth flow, the sync): shown, never taken from a form, whatever the
   * request carries. Where a token is sent (a connection's instance URL, provider, account) is one of them.
   */
  systemProperties?: readonly string[];
  /** Virtual fields (a password) turned into entity data, and server-side rules; may throw a ValidationError. */
  beforeWrite?: (input: CrmWriteInput, runtime: AdminJsRuntime) => Promise<void> | void;
  /**
   * A rule across rows checked inside the write's transaction, after an edit is applied or before a delete:
   * returns why the change is refused (the last superadmin must stay), or null.
   */
  refuseChange?: (
    em: EntityManager,
    change: { kind: 'edit' | 'delete'; row: object; before: Record<string, unknown> },
  ) => Promise<string | null>;
}

export function canAdmin(
  identity: CrmAdminIdentity | null,
  policy: Pick<CrmResourcePolicy, 'permissions' | 'tenantPath'>,
  operation: CrmAdminOperation,
): boolean {
  if (!identity) return false;
  if (identity.tenantId !== null && policy.tenantPath === null) return false;
  if (identity.role === 'viewer' && operation !== 'read') return false;
  return policy.permissions[identity.tenantId === null ? 'superadmin' : 'tenant_admin'].includes(operation);
}

/** The rows an admin may see: nothing extra for a superadmin, its own tenant's rows for a tenant admin. */
export function tenantScope(
  identity: CrmAdminIdentity,
  tenantPath: TenantPath | null,
): Record<string, unknown> {
  if (identity.tenantId === null) return {};
  switch (tenantPath) {
    case 'tenant':
      return { tenant: identity.tenantId };
    case 'id':
      return { id: identity.tenantId };
    case 'tenantId':
      return { tenantId: identity.tenantId };
    case 'connection.tenant':
      return { connection: { tenant: identity.tenantId } };
    default:
      throw new Error('A tenant admin has no access to platform-level rows');
  }
}

/** The tenant a row belongs to, read along the policy's path (null for platform-level rows). */
export function tenantIdOfRow(row: object, tenantPath: TenantPath | null): string | null {
  const values = row as Record<string, unknown>;
  const idOf = (value: unknown): string | null =>
    value && typeof value === 'object' ? String(wrap(value, true).getPrimaryKey()) : null;
  switch (tenantPath) {
    case 'tenant':
      return idOf(values.tenant);
    case 'id':
      return String(values.id);
    case 'tenantId':
      return (values.tenantId as string | null) ?? null;
    case 'connection.tenant':
      return idOf((values.connection as Record<string, unknown> | undefined)?.tenant);
    default:
      return null;
  }
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isJsonProperty(prop: EntityProperty): boolean {
  const column = prop.columnTypes?.[0];
  return column === 'json' || column === 'jsonb' || prop.type === 'json' || prop.type === 'JsonType';
}

export function isReference(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

export function isUuidColumn(prop: EntityProperty | undefined): boolean {
  return prop?.columnTypes?.[0] === 'uuid' || prop?.type === 'uuid';
}

/** Whether `value` can be a value of the key column `prop` (a uuid, an integer, or text). */
export function isWellFormedKey(prop: EntityProperty | undefined, value: string): boolean {
  if (isUuidColumn(prop)) return UUID.test(value);
  const column = prop?.columnTypes?.[0] ?? '';
  if (/^(bigint|int|integer|smallint|serial|bigserial)/.test(column) || prop?.type === 'number') {
    return /^\d{1,18}$/.test(value);
  }
  return true;
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}
