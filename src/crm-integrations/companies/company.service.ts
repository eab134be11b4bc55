import { Injectable, NotFoundException } from '@nestjs/common';
import type { Company } from '@pm/domain';
import { companyKey, normaliseCompanyName, normaliseDomain } from '@pm/integration-port';
import type { AuthContext } from '../auth/auth-context';
import { AuditService } from '../audit/audit.service';
import { ValidationProblem } from '../http/problem-details.filter';
import { CompanyRepository } from '../repositories';
import { applyCustomValues } from '../contacts/contact.service';
import { TenantService } from '../tenants/tenant.service';
import {
  CompanyResponseDto,
  type CompanyPageDto,
  type ListCompaniesQuery,
  type UpsertCompanyDto,
} from './company.dto';

/** What sync sets on a company: its name and domain; `companyId` absent finds it by key, else creates it. */
export interface SyncedCompanyChange {
  companyId?: string;
  /** `name`, `domain` and `customFields.<name>` (null removes the custom field). */
  values: { name?: string | null; domain?: string | null } & Partial<Record<string, string | null>>;
}

const snapshot = (company: Company) => ({
  name: company.name,
  domain: company.domain ?? null,
  customFields: company.customFields ?? {},
});

/**
 * PenguinMails companies, for the HTTP API and the sync engine alike, so both normalise the same way and bump
 * `updatedAt`. A company is unique per tenant by its key: its domain, else its normalised name. A contact names its
 * company by name (`Contact.company`), so renaming a company renames it on its contacts as well.
 */
@Injectable()
export class CompanyService {
  constructor(
    private readonly companies: CompanyRepository,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
  ) {}

  async list(_auth: AuthContext, tenantId: string, query: ListCompaniesQuery): Promise<CompanyPageDto> {
    await this.tenants.require(tenantId);
    const limit = query.limit ?? 100;
    const page = await this.companies.page(tenantId, limit, decodeCursor(query.cursor));
    const last = page.at(-1);
    return {
      data: page.map((company) => CompanyResponseDto.from(company)),
      nextCursor:
        page.length === limit && last
          ? Buffer.from(JSON.stringify({ name: last.name, id: last.id })).toString('base64url')
          : null,
    };
  }

  /** Creates the company, or updates (or revives) the one with the same domain, else the same name. */
  async upsert(
    auth: AuthContext,
    tenantId: string,
    dto: UpsertCompanyDto,
  ): Promise<{ company: CompanyResponseDto; created: boolean }> {
    await this.tenants.require(tenantId);
    const existing = await this.findSame(tenantId, dto);
    const before = existing && !existing.deletedAt ? snapshot(existing) : null;
    const company = existing ?? this.companies.create(tenantId, { name: dto.name, domain: dto.domain });
    const oldName = existing?.name;
    company.name = dto.name;
    if (dto.domain !== undefined) company.domain = normaliseDomain(dto.domain);
    if (dto.customFields !== undefined)
      company.customFields = { ...company.customFields, ...dto.customFields };
    company.deletedAt = null;
    await this.requireUniqueKey(tenantId, company);
    await this.companies.flush();
    if (oldName !== undefined) await this.companies.renameContactCompanies(tenantId, oldName, company.name);
    await this.audit.record(auth, {
      tenantId,
      action: before ? 'company.updated' : 'company.created',
      targetType: 'company',
      targetId: company.id,
      before,
      after: snapshot(company),
    });
    return { company: CompanyResponseDto.from(company), created: before === null };
  }

  async remove(auth: AuthContext, tenantId: string, companyId: string): Promise<void> {
    const company = await this.companies.findById(tenantId, companyId);
    if (!company || company.deletedAt) throw new NotFoundException(`Company "${companyId}" does not exist`);
    company.deletedAt = new Date();
    await this.companies.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'company.deleted',
      targetType: 'company',
      targetId: company.id,
      before: snapshot(company),
      after: null,
    });
  }

  /** For the sync engine: sets synced values on a company (by id, else by key, else a new one). */
  async applySyncedValues(
    tenantId: string,
    change: SyncedCompanyChange,
  ): Promise<{ company: Company; created: boolean }> {
    let company = change.companyId ? await this.companies.findById(tenantId, change.companyId) : null;
    if (change.companyId && !company)
      throw new Error(`Company "${change.companyId}" does not exist for this tenant`);
    const name = change.values.name ?? company?.name ?? null;
    if (normaliseCompanyName(name) === null) throw new Error('A company needs a name');
    company ??= await this.findSame(tenantId, { name: name as string, domain: change.values.domain });
    let created = false;
    if (!company) {
      company = this.companies.create(tenantId, { name: name as string, domain: change.values.domain });
      created = true;
    } else if (company.deletedAt && !change.companyId) {
      company.deletedAt = null;
      created = true;
    }
    const oldName = created ? undefined : company.name;
    if (change.values.name !== undefined) company.name = (change.values.name as string).trim();
    if (change.values.domain !== undefined) company.domain = normaliseDomain(change.values.domain);
    applyCustomValues(company, change.values);
    const clash = await this.keyClash(tenantId, company);
    if (clash) throw new Error(`Another company of this tenant already has the key ${clash}`);
    await this.companies.flush();
    // Contacts name their company by its name: a rename reaches them too.
    if (oldName !== undefined) await this.companies.renameContactCompanies(tenantId, oldName, company.name);
    return { company, created };
  }

  /** For the sync engine: soft-deletes a company whose CRM record was deleted (when the connection says so). */
  async markDeletedBySync(tenantId: string, companyId: string): Promise<void> {
    const company = await this.companies.findById(tenantId, companyId);
    if (!company || company.deletedAt) return;
    company.deletedAt = new Date();
    await this.companies.flush();
  }

  /** The company with the same domain; else, where the new values have none or it has none, the same name. */
  private async findSame(
    tenantId: string,
    values: { name: string; domain?: string | null },
  ): Promise<Company | null> {
    const domain = normaliseDomain(values.domain);
    if (domain !== null) {
      const byDomain = await this.companies.findByKey(tenantId, companyKey({ domain }) as string);
      if (byDomain) return byDomain;
    }
    const byName = await this.companies.findByKey(tenantId, companyKey({ name: values.name }) as string);
    return byName && (domain === null || !byName.domain) ? byName : null;
  }

  private async keyClash(tenantId: string, company: Company): Promise<string | null> {
    const key = companyKey(company) as string;
    const other = await this.companies.findByKey(tenantId, key);
    return other && other.id !== company.id ? key : null;
  }

  private async requireUniqueKey(tenantId: string, company: Company): Promise<void> {
    if (await this.keyClash(tenantId, company)) {
      throw new ValidationProblem([
        { name: 'domain', reason: 'another company of this tenant has this domain' },
      ]);
    }
  }
}

function decodeCursor(cursor: string | undefined): { name: string; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      name?: unknown;
      id?: unknown;
    };
    if (typeof parsed.name === 'string' && typeof parsed.id === 'string')
      return { name: parsed.name, id: parsed.id };
  } catch {
    // Reported below as the cursor being invalid.
  }
  throw new ValidationProblem([{ name: 'cursor', reason: 'cursor is not a nextCursor this API returned' }]);
}
