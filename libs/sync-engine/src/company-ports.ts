import type { LocalPosition } from './ports';
import type { CompanyValues } from './company-mapping';

/** What the engine needs of PenguinMails companies; src/crm-integrations/sync implements it with MikroORM. */

export interface LocalCompany {
  id: string;
  name: string;
  domain: string | null;
  /** The company's custom fields in text form, by name (`customFields.<name>` in a mapping). */
  customFields?: Readonly<Record<string, string | null>>;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface LocalCompanyChange {
  /** The caller's key, echoed in the result. */
  key: string;
  /** Absent: create (or revive the company with the same key). */
  companyId?: string;
  values: CompanyValues;
}

export type LocalCompanyApplyResult =
  | { key: string; ok: true; company: LocalCompany; created: boolean }
  | { key: string; ok: false; message: string };

export interface LocalCompanyStore {
  /** Companies changed after `after` (deleted ones included), oldest first then by id. */
  changedSince(tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalCompany[]>;
  /** Deleted ones included. */
  findByIds(tenantId: string, ids: string[]): Promise<LocalCompany[]>;
  /** Companies with one of these domains or (normalised) names; deleted ones included. */
  findMatching(tenantId: string, query: { domains: string[]; names: string[] }): Promise<LocalCompany[]>;
  /** One result per change, in order; one failing change never stops the others. */
  apply(tenantId: string, changes: LocalCompanyChange[]): Promise<LocalCompanyApplyResult[]>;
  markDeleted(tenantId: string, companyId: string): Promise<void>;
  /** Ids of the tenant's live contacts whose company is one of these names (normalised). */
  contactIdsWithCompanies(tenantId: string, names: string[]): Promise<string[]>;
}

/** The local object name of companies in links and cursors. */
export const LOCAL_COMPANY_OBJECT = 'company';

/** The cursor of contacts whose company association was last written. */
export const CONTACT_COMPANY_CURSOR = 'contact_company';

/** The key in a contact link's `synced` holding the CRM company it was last associated with. */
export const ASSOCIATED_COMPANY_KEY = '@company';
