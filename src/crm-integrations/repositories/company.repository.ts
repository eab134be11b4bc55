import { Injectable } from '@nestjs/common';
import { Company, Contact, Tenant } from '@pm/domain';
import { companyKey, normaliseCompanyName, normaliseDomain } from '@pm/integration-port';
import { CrmRepository } from './base.repository';

/** PenguinMails companies: the API's and the sync's queries. */
@Injectable()
export class CompanyRepository extends CrmRepository {
  /** Live companies of a tenant, by name, after an optional keyset (name, id). */
  page(tenantId: string, limit: number, after?: { name: string; id: string }): Promise<Company[]> {
    const where: Record<string, unknown> = { tenant: tenantId, deletedAt: null };
    if (after) where.$or = [{ name: { $gt: after.name } }, { name: after.name, id: { $gt: after.id } }];
    return this.em.find(Company, where, { orderBy: { name: 'asc', id: 'asc' }, limit });
  }

  /** The company with this key (domain, else normalised name), deleted or not. */
  findByKey(tenantId: string, key: string): Promise<Company | null> {
    return this.em.findOne(Company, { tenant: tenantId, key });
  }

  findById(tenantId: string, id: string): Promise<Company | null> {
    return this.em.findOne(Company, { tenant: tenantId, id });
  }

  create(tenantId: string, values: { name: string; domain?: string | null }): Company {
    const company = this.em.create(Company, {
      tenant: this.em.getReference(Tenant, tenantId),
      name: values.name.trim(),
      domain: normaliseDomain(values.domain),
    });
    company.key = companyKey(company) as string;
    return company;
  }

  /**
   * For sync: companies changed after a keyset position, oldest first then id, deleted ones included. Without
   * `after.id`, companies at exactly `after.updatedAt` are included.
   */
  changedSinceForSync(
    tenantId: string,
    after: { updatedAt: Date; id?: string } | null,
    limit: number,
  ): Promise<Company[]> {
    const where: Record<string, unknown> = { tenant: tenantId };
    if (after && after.id === undefined) where.updatedAt = { $gte: after.updatedAt };
    if (after && after.id !== undefined) {
      where.$or = [
        { updatedAt: { $gt: after.updatedAt } },
        { updatedAt: after.updatedAt, id: { $gt: after.id } },
      ];
    }
    return this.em.find(Company, where, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit });
  }

  /** For sync: by ids, deleted ones included. */
  findManyByIdsForSync(tenantId: string, ids: string[]): Promise<Company[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.em.find(Company, { tenant: tenantId, id: { $in: ids } });
  }

  /** For sync: companies with one of these domains or normalised names, deleted ones included. */
  findMatchingForSync(tenantId: string, domains: string[], names: string[]): Promise<Company[]> {
    const wantedDomains = [...new Set(domains.flatMap((domain) => normaliseDomain(domain) ?? []))];
    const wantedNames = [...new Set(names.flatMap((name) => normaliseCompanyName(name) ?? []))];
    const either = [
      ...(wantedDomains.length > 0 ? [{ domain: { $in: wantedDomains } }] : []),
      ...(wantedNames.length > 0 ? [{ nameKey: { $in: wantedNames } }] : []),
    ];
    if (either.length === 0) return Promise.resolve([]);
    return this.em.find(
      Company,
      { tenant: tenantId, $or: either },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
  }

  /** For sync: ids of live contacts whose company text is one of these normalised names. */
  async contactIdsWithCompaniesForSync(tenantId: string, names: string[]): Promise<string[]> {
    const wanted = names.flatMap((name) => normaliseCompanyName(name) ?? []);
    if (wanted.length === 0) return [];
    // The same normalisation as `normaliseCompanyName`: trimmed, white space collapsed, lower case.
    const rows = await this.em
      .createQueryBuilder(Contact, 'k')
      .select('id')
      .where({ tenant: tenantId, deletedAt: null })
      .andWhere(
        `lower(regexp_replace(btrim(k.company), '\\s+', ' ', 'g')) in (${wanted.map(() => '?').join(', ')})`,
        wanted,
      )
      .execute<{ id: string }[]>('all');
    return rows.map((row) => row.id);
  }

  /**
   * A company was renamed: contacts that name it by its old name (normalised) now name it by the new one, with
   * `updated_at` bumped so the change syncs like any other edit. Returns how many contacts changed.
   */
  async renameContactCompanies(tenantId: string, oldName: string, newName: string): Promise<number> {
    const old = normaliseCompanyName(oldName);
    if (old === null || (old === normaliseCompanyName(newName) && oldName.trim() === newName.trim()))
      return 0;
    const result = await this.em
      .createQueryBuilder(Contact, 'k')
      .update({ company: newName.trim(), updatedAt: new Date() })
      .where({ tenant: tenantId, deletedAt: null })
      .andWhere(`lower(regexp_replace(btrim(k.company), '\\s+', ' ', 'g')) = ?`, [old])
      .execute<{ affectedRows: number }>('run');
    return result.affectedRows;
  }
}
