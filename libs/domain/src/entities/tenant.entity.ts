import { Entity, Opt, PrimaryKey, Property } from '@mikro-orm/core';

/** A PenguinMails workspace. Its id is the workspace id PenguinMails already uses, so the backend needs no mapping. */
@Entity({ tableName: 'tenants' })
export class Tenant {
  @PrimaryKey({ type: 'text' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'boolean', default: true })
  active: boolean & Opt = true;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
