import { Entity, Index, Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Who changed what, append-only: a database trigger refuses UPDATE and DELETE on the table. The tenant is a plain
 * id (not a foreign key) so the trail outlives the rows it describes.
 */
@Entity({ tableName: 'audit_log_entries' })
@Index({ properties: ['tenantId', 'at'] })
export class AuditLogEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text', nullable: true })
  tenantId?: string | null;

  /** 'admin:alice@example.com', 'service:backend', 'system:scheduler'. */
  @Property({ type: 'text' })
  actor!: string;

  /** 'connection.settings.updated', 'provider.disabled', … */
  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'text' })
  targetType!: string;

  @Property({ type: 'text', nullable: true })
  targetId?: string | null;

  @Property({ type: 'json', nullable: true })
  before?: Record<string, unknown> | null;

  @Property({ type: 'json', nullable: true })
  after?: Record<string, unknown> | null;

  @Property({ type: 'datetime' })
  at: Date & Opt = new Date();
}
