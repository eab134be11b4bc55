import { Entity, Index, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import type { FieldProvenance } from '../model/field-provenance';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

export type { FieldProvenance } from '../model/field-provenance';

/**
 * The link between a local record and a CRM record within one connection, with the last values synced per mapped
 * field. Local and CRM object types are data ('contact' ↔ 'Lead'), so companies and custom objects fit too.
 */
@Entity({ tableName: 'record_links' })
@Unique({ properties: ['connection', 'crmObject', 'crmId'] })
@Index({ properties: ['connection', 'localObject', 'localId'] })
export class RecordLink {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  localObject!: string;

  @Property({ type: 'uuid' })
  localId!: string;

  @Property({ type: 'text' })
  crmObject!: string;

  @Property({ type: 'text' })
  crmId!: string;

  /** Mapped field → last synced value with its provenance. */
  @Property({ type: 'json', default: '{}' })
  synced: Record<string, FieldProvenance> & Opt = {};

  /** Each side's modification time when last synced: what "changed since" is measured against. */
  @Property({ type: 'datetime', nullable: true })
  localUpdatedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  crmModifiedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  lastSyncedAt?: Date | null;

  /** Set when either side deleted its record; the link is kept for history. */
  @Property({ type: 'datetime', nullable: true })
  unlinkedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  unlinkReason?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();
}
