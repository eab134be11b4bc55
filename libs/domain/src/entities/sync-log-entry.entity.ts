import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import type { SyncLogAction } from '../model/sync-log-actions';
import { CrmConnection } from './crm-connection.entity';
import { SyncRun } from './sync-run.entity';
import { Tenant } from './tenant.entity';

export * from '../model/sync-log-actions';

/** One line of the seed's "Recent Sync Log" ("Contact synced: john@example.com → SF"). */
@Entity({ tableName: 'sync_log_entries' })
@Index({ properties: ['connection', 'at'] })
@Index({ properties: ['tenant', 'at'] })
// The retention pass deletes by age across tenants.
@Index({ properties: ['at'] })
export class SyncLogEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @ManyToOne(() => SyncRun, { nullable: true, deleteRule: 'set null' })
  run?: SyncRun | null;

  @Property({ type: 'datetime' })
  at: Date & Opt = new Date();

  @Enum({ items: ['to_crm', 'from_crm', 'none'] })
  direction!: 'to_crm' | 'from_crm' | 'none';

  /** The CRM object or local object the line is about ('Contact', 'contacts', 'persons'). */
  @Property({ type: 'text' })
  object!: string;

  /** The record's key a person recognises, usually the e-mail. */
  @Property({ type: 'text', nullable: true })
  recordKey?: string | null;

  @Property({ type: 'text' })
  action!: SyncLogAction;

  /** Human-readable; for errors, the CRM's own message. */
  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'json', nullable: true })
  details?: Record<string, unknown> | null;
}
