import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * How far a retention pass has deleted a table, per key: `contact_changes:<tenant>` holds the highest change feed
 * entry deleted for that tenant, so a reader whose cursor is older learns that entries it never read are gone (410)
 * rather than silently skipping them.
 */
@Entity({ tableName: 'retention_marks' })
export class RetentionMark {
  @PrimaryKey({ type: 'text' })
  name!: string;

  @Property({ type: 'bigint' })
  throughId!: string;

  @Property({ type: 'datetime' })
  updatedAt: Date & Opt = new Date();
}
