import {
  BeforeCreate,
  BeforeUpdate,
  Check,
  Entity,
  Index,
  ManyToOne,
  Opt,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { companyKey, normaliseCompanyName, normaliseDomain } from '@pm/integration-port';
import { newId } from './common';
import { Tenant } from './tenant.entity';

/**
 * A PenguinMails company: the local side of company sync (Salesforce Accounts, HubSpot companies, Pipedrive
 * organizations). Unique per tenant by its key: the domain where it has one, else the normalised name.
 */
@Check({ name: 'companies_name_present', expression: "btrim(name) <> ''" })
@Entity({ tableName: 'companies' })
@Unique({ properties: ['tenant', 'key'] })
@Index({ properties: ['tenant', 'updatedAt'] })
@Index({ properties: ['tenant', 'nameKey'] })
export class Company {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = newId();

  @ManyToOne(() => Tenant, { deleteRule: 'cascade' })
  tenant!: Tenant;

  @Property({ type: 'text' })
  name!: string;

  /** A bare, lower-cased domain (`acme.com`), where the company has one. */
  @Property({ type: 'text', nullable: true })
  domain?: string | null;

  /** The tenant's own company fields, by name (what `customFields.<name>` in a company mapping syncs). */
  @Property({ type: 'json', default: '{}' })
  customFields: Record<string, unknown> & Opt = {};

  /** `domain:acme.com` or `name:acme ltd`: what the company is unique by within its tenant. */
  @Property({ type: 'text' })
  key!: string & Opt;

  /** The normalised name (trimmed, spaces collapsed, lower case): what a company is matched by without a domain. */
  @Property({ type: 'text' })
  nameKey!: string & Opt;

  @Property({ type: 'datetime' })
  createdAt: Date & Opt = new Date();

  /** Bumped on every local change; the engine's change detection reads it. */
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();

  /** Soft delete, so a deletion can be seen (and unlinked, or propagated) by the next sync. */
  @Property({ type: 'datetime', nullable: true })
  deletedAt?: Date | null;

  @BeforeCreate()
  @BeforeUpdate()
  protected normalise(): void {
    this.name = this.name.trim();
    this.domain = normaliseDomain(this.domain);
    this.nameKey = normaliseCompanyName(this.name) ?? '';
    this.key = companyKey(this) as string;
  }
}
