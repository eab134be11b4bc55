import { Entity, ManyToOne, Opt, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import type { FieldDescriptor, ObjectMapping } from '@pm/integration-port';
import { newId } from './common';
import { CrmConnection } from './crm-connection.entity';

/**
 * A tenant's field mapping of one CRM object on one connection: which PenguinMails field each CRM field holds, which
 * way it flows, value maps and formulas, and the CRM field matched on. Seeded from the connector's defaults the first
 * time the connection syncs or the mapping is read; each save bumps `version` and is audited.
 */
@Entity({ tableName: 'field_mappings' })
@Unique({ properties: ['connection', 'object'] })
export class FieldMappingConfig {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  /** The CRM's own object name ('Contact', 'contacts', 'persons'). */
  @Property({ type: 'text' })
  object!: string;

  @Property({ type: 'json' })
  mapping!: ObjectMapping;

  /** 1 for the seeded defaults; bumped on every save. */
  @Property({ type: 'integer', default: 1 })
  version: number & Opt = 1;

  /** Who saved it last (the audit actor); null while it is the seeded defaults. */
  @Property({ type: 'text', nullable: true })
  updatedBy?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}

/**
 * The CRM fields of one object as the connection's CRM described them (custom fields included), kept so the mapping
 * screen and validation need no describe call each time; refreshed on demand.
 */
@Entity({ tableName: 'crm_field_caches' })
@Unique({ properties: ['connection', 'object'] })
export class CrmFieldCache {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => CrmConnection, { deleteRule: 'cascade' })
  connection!: CrmConnection;

  @Property({ type: 'text' })
  object!: string;

  @Property({ type: 'json' })
  fields!: FieldDescriptor[];

  @Property({ type: 'datetime' })
  fetchedAt!: Date;
}
