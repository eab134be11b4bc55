import { randomUUID } from 'node:crypto';
import { companyKey, customFieldName, normaliseCompanyName, normaliseDomain } from '@pm/integration-port';
import type {
  LocalCompany,
  LocalCompanyApplyResult,
  LocalCompanyChange,
  LocalCompanyStore,
} from '../company-ports';
import type { LocalPosition } from '../ports';
import type { InMemoryLocalContacts } from './in-memory-stores';

/** PenguinMails companies in memory, unique by key (domain, else normalised name) as the database keeps them. */
export class InMemoryLocalCompanies implements LocalCompanyStore {
  readonly companies: LocalCompany[] = [];

  constructor(private readonly contacts: InMemoryLocalContacts) {}

  /** A person adding (or editing, by key) a company in PenguinMails. */
  add(name: string, domain: string | null = null): LocalCompany {
    const company: LocalCompany = {
      id: randomUUID(),
      name,
      domain: normaliseDomain(domain),
      updatedAt: this.contacts.nextStamp(),
      deletedAt: null,
    };
    this.companies.push(company);
    return company;
  }

  edit(
    id: string,
    values: {
      name?: string;
      domain?: string | null;
      deleted?: boolean;
      customFields?: Record<string, string | null>;
    },
  ): LocalCompany {
    const company = this.companies.find((candidate) => candidate.id === id);
    if (!company) throw new Error(`no local company ${id}`);
    if (values.customFields) company.customFields = { ...company.customFields, ...values.customFields };
    if (values.name !== undefined) company.name = values.name;
    if (values.domain !== undefined) company.domain = normaliseDomain(values.domain);
    if (values.deleted) company.deletedAt = this.contacts.nextStamp();
    company.updatedAt = this.contacts.nextStamp();
    return company;
  }

  byName(name: string): LocalCompany | undefined {
    return this.companies.find(
      (company) => normaliseCompanyName(company.name) === normaliseCompanyName(name),
    );
  }

  async changedSince(_tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalCompany[]> {
    return this.companies
      .filter((c) => {
        if (!after) return true;
        const at = Date.parse(after.updatedAt);
        const t = c.updatedAt.getTime();
        return after.id === undefined ? t >= at : t > at || (t === at && c.id > after.id);
      })
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((c) => structuredClone(c));
  }

  async findByIds(_tenantId: string, ids: string[]): Promise<LocalCompany[]> {
    return this.companies.filter((c) => ids.includes(c.id)).map((c) => structuredClone(c));
  }

  async findMatching(
    _tenantId: string,
    query: { domains: string[]; names: string[] },
  ): Promise<LocalCompany[]> {
    const domains = new Set(query.domains.map(normaliseDomain));
    const names = new Set(query.names.map(normaliseCompanyName));
    return this.companies
      .filter((c) => (c.domain !== null && domains.has(c.domain)) || names.has(normaliseCompanyName(c.name)))
      .map((c) => structuredClone(c));
  }

  async apply(_tenantId: string, changes: LocalCompanyChange[]): Promise<LocalCompanyApplyResult[]> {
    return changes.map((change): LocalCompanyApplyResult => {
      let company = change.companyId ? this.companies.find((c) => c.id === change.companyId) : undefined;
      const created = company === undefined;
      const name = change.values.name ?? company?.name;
      if (!name) return { key: change.key, ok: false, message: 'A company needs a name' };
      const next = {
        name,
        domain: change.values.domain !== undefined ? change.values.domain : company?.domain,
      };
      const clash = this.companies.find((c) => c.id !== company?.id && companyKey(c) === companyKey(next));
      if (clash)
        return { key: change.key, ok: false, message: `Another company has the key ${companyKey(next)}` };
      company ??= { id: randomUUID(), name, domain: null, updatedAt: new Date(0), deletedAt: null };
      if (created) this.companies.push(company);
      company.name = name;
      company.domain = normaliseDomain(next.domain);
      const custom = Object.entries(change.values).filter(([field]) => customFieldName(field) !== undefined);
      if (custom.length > 0) {
        company.customFields = {
          ...company.customFields,
          ...Object.fromEntries(custom.map(([field, value]) => [customFieldName(field), value ?? null])),
        };
      }
      company.updatedAt = this.contacts.nextStamp();
      return { key: change.key, ok: true, company: structuredClone(company), created };
    });
  }

  async markDeleted(_tenantId: string, companyId: string): Promise<void> {
    const company = this.companies.find((c) => c.id === companyId);
    if (company && !company.deletedAt) {
      company.deletedAt = this.contacts.nextStamp();
      company.updatedAt = company.deletedAt;
    }
  }

  async contactIdsWithCompanies(_tenantId: string, names: string[]): Promise<string[]> {
    const wanted = new Set(names.map(normaliseCompanyName));
    return this.contacts.contacts
      .filter((c) => !c.deletedAt && wanted.has(normaliseCompanyName(c.values.company)))
      .map((c) => c.id);
  }
}
