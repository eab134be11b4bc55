import { Injectable } from '@nestjs/common';
import type { Company } from '@pm/domain';
import type {
  LocalCompany,
  LocalCompanyApplyResult,
  LocalCompanyChange,
  LocalCompanyStore,
  LocalPosition,
} from '@pm/sync-engine';
import { CompanyService } from '../companies/company.service';
import { CompanyRepository } from '../repositories';
import { customFieldText } from './local-contact-store';

export const toLocalCompany = (company: Company): LocalCompany => ({
  id: company.id,
  name: company.name,
  domain: company.domain ?? null,
  customFields: Object.fromEntries(
    Object.entries(company.customFields ?? {}).map(([name, value]) => [name, customFieldText(value)]),
  ),
  updatedAt: company.updatedAt,
  deletedAt: company.deletedAt ?? null,
});

/**
 * PenguinMails companies for the engine. Writes go through `CompanyService`, the code the HTTP API uses; each change
 * runs in its own context, so one company the database refuses never undoes the others.
 */
@Injectable()
export class LocalCompanyStoreAdapter implements LocalCompanyStore {
  constructor(
    private readonly service: CompanyService,
    private readonly repository: CompanyRepository,
  ) {}

  private inContext<T>(work: () => Promise<T>): Promise<T> {
    return this.repository.inOwnContext(work);
  }

  async changedSince(tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalCompany[]> {
    const companies = await this.inContext(() =>
      this.repository.changedSinceForSync(
        tenantId,
        after ? { updatedAt: new Date(after.updatedAt), id: after.id } : null,
        limit,
      ),
    );
    return companies.map(toLocalCompany);
  }

  async findByIds(tenantId: string, ids: string[]): Promise<LocalCompany[]> {
    const companies = await this.inContext(() => this.repository.findManyByIdsForSync(tenantId, ids));
    return companies.map(toLocalCompany);
  }

  async findMatching(
    tenantId: string,
    query: { domains: string[]; names: string[] },
  ): Promise<LocalCompany[]> {
    const companies = await this.inContext(() =>
      this.repository.findMatchingForSync(tenantId, query.domains, query.names),
    );
    return companies.map(toLocalCompany);
  }

  async apply(tenantId: string, changes: LocalCompanyChange[]): Promise<LocalCompanyApplyResult[]> {
    const results: LocalCompanyApplyResult[] = [];
    for (const change of changes) {
      try {
        const { company, created } = await this.inContext(() =>
          this.service.applySyncedValues(tenantId, { companyId: change.companyId, values: change.values }),
        );
        results.push({ key: change.key, ok: true, company: toLocalCompany(company), created });
      } catch (error) {
        results.push({
          key: change.key,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return results;
  }

  async markDeleted(tenantId: string, companyId: string): Promise<void> {
    await this.inContext(() => this.service.markDeletedBySync(tenantId, companyId));
  }

  contactIdsWithCompanies(tenantId: string, names: string[]): Promise<string[]> {
    return this.inContext(() => this.repository.contactIdsWithCompaniesForSync(tenantId, names));
  }
}
