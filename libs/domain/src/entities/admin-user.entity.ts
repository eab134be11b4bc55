import { Entity, Enum, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

export const ADMIN_ROLES = ['superadmin', 'tenant_admin', 'viewer'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/**
 * An AdminJS login. A tenant admin sees only its tenant's rows; a superadmin sees all; a viewer sees its tenant's
 * rows (or all, without a tenant) and changes nothing.
 */
@Entity({ tableName: 'admin_users' })
export class AdminUser {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @Property({ type: 'text' })
  @Unique()
  email!: string;

  /** scrypt hash (`scrypt$N$r$p$salt$hash`); never shown. */
  @Property({ type: 'text', hidden: true, lazy: true })
  passwordHash!: string;

  @Enum({ items: () => [...ADMIN_ROLES], default: 'superadmin' })
  role: AdminRole & Opt = 'superadmin';

  @ManyToOne(() => Tenant, { nullable: true, deleteRule: 'cascade' })
  tenant?: Tenant | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastLoginAt?: Date | null;
}
