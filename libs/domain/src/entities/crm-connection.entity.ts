import { Entity, Enum, Index, ManyToOne, OneToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import {
  CONNECTION_HEALTH,
  DEFAULT_CONNECTION_SETTINGS,
  type ConnectionHealth,
  type ConnectionSettings,
} from '../model/connection-settings';
import { newId } from './common';
import { ConnectionCredential } from './connection-credential.entity';
import { Tenant } from './tenant.entity';

export const CONNECTION_STATUSES = [
  'pending',
  'connected',
  'needs_reconnect',
  'error',
  'disconnected',
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export * from '../model/connection-settings';

/** A tenant's link to one CRM account. A tenant may have several (Salesforce and HubSpot at once). */
@Entity({ tableName: 'crm_connections' })
@Index({ properties: ['tenant', 'provider'] })
@Index({ properties: ['status', 'nextSyncAt'] })
export class CrmConnection {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  /** 'salesforce', 'hubspot', 'pipedrive', … */
  @Property({ type: 'text' })
  provider!: string;

  @Property({ type: 'text', nullable: true })
  label?: string | null;

  @Enum({ items: () => [...CONNECTION_STATUSES], default: 'pending' })
  status: ConnectionStatus & Opt = 'pending';

  /** Why the status is what it is ("invalid_grant: token revoked"), shown to admins. */
  @Property({ type: 'text', nullable: true })
  statusReason?: string | null;

  @Enum({ items: () => [...CONNECTION_HEALTH], default: 'healthy' })
  health: ConnectionHealth & Opt = 'healthy';

  @Property({ type: 'text', nullable: true })
  healthReason?: string | null;

  /** The CRM account (Salesforce org id, HubSpot portal id, Pipedrive company id). */
  @Property({ type: 'text', nullable: true })
  crmAccountId?: string | null;

  @Property({ type: 'text', nullable: true })
  crmAccountName?: string | null;

  @Property({ type: 'text', nullable: true })
  crmUserId?: string | null;

  /** The account's API base (Salesforce instance_url, Pipedrive api_domain). */
  @Property({ type: 'text', nullable: true })
  instanceUrl?: string | null;

  @Property({ type: 'json' })
  settings: ConnectionSettings & Opt = { ...DEFAULT_CONNECTION_SETTINGS };

  /** Encrypted tokens live in their own table so no generic screen or query picks them up by accident. */
  @OneToOne(() => ConnectionCredential, (credential) => credential.connection, {
    nullable: true,
    hidden: true,
  })
  credential?: ConnectionCredential | null;

  @Property({ type: 'datetime', nullable: true })
  connectedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  disconnectedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  lastSyncAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  nextSyncAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
