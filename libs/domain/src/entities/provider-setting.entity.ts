import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/**
 * Admin control over which CRMs may be connected: a row without a tenant is the global switch, a row with one
 * overrides it for that tenant. No row means enabled.
 */
@Entity({ tableName: 'provider_settings' })
@Unique({
  name: 'provider_settings_provider_tenant_unique',
  expression:
    'create unique index "provider_settings_provider_tenant_unique" on "provider_settings" ("provider", "tenant_id") nulls not distinct',
})
export class ProviderSetting {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @Property({ type: 'text' })
  provider!: string;

  @ManyToOne(() => Tenant, { nullable: true, deleteRule: 'cascade' })
  tenant?: Tenant | null;

  @Property({ type: 'boolean' })
  enabled!: boolean;

  @Property({ type: 'text', nullable: true })
  note?: string | null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
