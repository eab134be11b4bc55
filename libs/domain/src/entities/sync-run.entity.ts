import { Entity, Enum, Index, ManyToOne, Opt, PrimaryKey, Property } from '@mikro-orm/core';
import type { ReconcileDrift } from '../model/reconcile-drift';
import type { SyncRunCounts } from '../model/sync-run-counts';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';
import { Tenant } from './tenant.entity';

export const SYNC_TRIGGERS = ['scheduled', 'manual', 'initial', 'webhook', 'retry', 'reconcile'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

export const SYNC_RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'partial',
  'failed',
  'cancelled',
] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

export type { SyncCounts, SyncRunCounts } from '../model/sync-run-counts';
export * from '../model/reconcile-drift';

@Entity({ tableName: 'sync_runs' })
@Index({ properties: ['connection', 'queuedAt'] })
@Index({ properties: ['tenant', 'queuedAt'] })
export class SyncRun {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  trigger!: SyncTrigger;

  @Enum({ items: () => [...SYNC_RUN_STATUSES], default: 'queued' })
  status: SyncRunStatus & Opt = 'queued';

  @Property({ type: 'datetime' })
  queuedAt: Date & Opt = new Date();

  @Property({ type: 'datetime', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'json', default: '{}' })
  counts: SyncRunCounts & Opt = {};

  /** A reconcile run's findings by object and kind (`trigger` 'reconcile'); null on every other run. */
  @Property({ type: 'json', nullable: true })
  drift?: ReconcileDrift | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;

  /** Which worker process ran it (host:pid), for operators. */
  @Property({ type: 'text', nullable: true })
  workerId?: string | null;
}
