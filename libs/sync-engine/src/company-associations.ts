import { paginate } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type AssociateRecordsRequest,
  type AssociateResult,
} from '@pm/integration-port';
import { matchingCompanies, normaliseCompanyName } from './company-mapping';
import {
  ASSOCIATED_COMPANY_KEY,
  CONTACT_COMPANY_CURSOR,
  LOCAL_COMPANY_OBJECT,
  type LocalCompany,
} from './company-ports';
import { companyValues, type CompanyRunScope } from './company-sync-scope';
import type { LinkSnapshot, LocalContact, LocalPosition, RetryItem } from './ports';

/**
 * Contacts and their companies. Before companies go out, each company named by a contact that changed gets a
 * PenguinMails company record if it has none, so the outbound pass creates it in the CRM when missing (after looking
 * it up). After contacts go out, each linked contact is associated on the CRM side with its company's record,
 * through the port, only when that association is not the one last written (kept on the contact's link).
 */
export class CompanyAssociations {
  constructor(
    private readonly scope: CompanyRunScope,
    /** The contact objects of the run that the company object can be associated with. */
    private readonly contactObjects: readonly string[],
    /** Every contact object of the run, the one new contacts are created in first. */
    private readonly runObjects: readonly string[] = contactObjects,
  ) {}

  /**
   * Of these contacts, those whose CRM record can be associated with a company: linked to an object that can be, or
   * not linked yet and about to be created in one (a Salesforce Lead's company is its own text, not an Account).
   */
  private async associable(contacts: readonly LocalContact[]): Promise<LocalContact[]> {
    const { run } = this.scope;
    const links = await run.links.findByLocalIds(
      run.connection.id,
      contacts.map((contact) => contact.id),
    );
    const objectsOf = new Map<string, string[]>();
    for (const link of links) {
      if (!this.runObjects.includes(link.crmObject)) continue;
      objectsOf.set(link.localId, [...(objectsOf.get(link.localId) ?? []), link.crmObject]);
    }
    const createsIn = this.runObjects[0];
    return contacts.filter((contact) => {
      const objects = objectsOf.get(contact.id);
      return objects === undefined
        ? this.contactObjects.includes(createsIn)
        : objects.some((object) => this.contactObjects.includes(object));
    });
  }

  /** Local companies for the company names of contacts changed since the association cursor. */
  async ensureLocalCompanies(): Promise<void> {
    if (this.contactObjects.length === 0) return;
    const { run, companies } = this.scope;
    for await (const page of this.changedContacts()) {
      const named = page.filter(
        (contact) => !contact.deletedAt && normaliseCompanyName(contact.values.company),
      );
      if (named.length === 0) continue;
      const names = new Map<string, string>();
      for (const contact of await this.associable(named)) {
        const name = contact.values.company;
        const key = normaliseCompanyName(name);
        if (key !== null && !names.has(key)) names.set(key, (name as string).trim());
      }
      if (names.size === 0) continue;
      const existing = await companies.findMatching(run.connection.tenantId, {
        domains: [],
        names: [...names.keys()],
      });
      const known = new Set(existing.map((company) => normaliseCompanyName(company.name)));
      const missing = [...names].filter(([key]) => !known.has(key));
      if (missing.length === 0) continue;
      const results = await companies.apply(
        run.connection.tenantId,
        missing.map(([key, name]) => ({ key, values: { name } })),
      );
      for (const result of results) {
        if (!result.ok) {
          run.journal.log({
            direction: 'none',
            object: this.scope.mapping.object,
            recordKey: result.key,
            action: 'error',
            message: `Company not created in PenguinMails: ${result.key}: ${result.message}`,
          });
        }
      }
    }
  }

  /**
   * Associates contacts changed since the association cursor, and those of companies first linked this run, with
   * their companies' CRM records. The cursor passes a page once its associations are written.
   */
  async associate(newlyLinked: readonly LocalCompany[]): Promise<void> {
    if (this.contactObjects.length === 0) return;
    const { run, companies } = this.scope;
    const { connection } = run;
    /** Contacts handled in this run: each is associated (or refused) once, whichever way it came. */
    const handled = new Set<string>();
    const once = (contacts: readonly LocalContact[]) => {
      const fresh = contacts.filter((contact) => !handled.has(contact.id));
      for (const contact of fresh) handled.add(contact.id);
      return this.associatePage(fresh);
    };
    const retries = await run.journal.retryList('to_crm', (item) => item.object === CONTACT_COMPANY_CURSOR);
    if (retries.length > 0) {
      const ids = retries.map((item) => item.recordId);
      const failed = await once(await run.locals.findByIds(connection.tenantId, ids));
      // Off the list: associated now, or nothing left to associate (deleted, no company, already done).
      await run.journal.succeeded(
        'to_crm',
        CONTACT_COMPANY_CURSOR,
        ids.filter((id) => !failed.has(id)),
      );
      await run.journal.flush();
    }
    const names = newlyLinked.flatMap((company) => normaliseCompanyName(company.name) ?? []);
    if (names.length > 0) {
      const ids = await companies.contactIdsWithCompanies(connection.tenantId, names);
      for (let start = 0; start < ids.length; start += run.tuning.localPageSize) {
        const page = await run.locals.findByIds(
          connection.tenantId,
          ids.slice(start, start + run.tuning.localPageSize),
        );
        await once(page);
        await run.journal.flush();
      }
    }
    let last: LocalContact | undefined;
    for await (const contacts of this.changedContacts()) {
      await once(contacts);
      last = contacts[contacts.length - 1] ?? last;
      if (last) {
        await run.cursors.save(connection.id, CONTACT_COMPANY_CURSOR, 'to_crm', {
          modifiedAt: last.updatedAt.toISOString(),
          lastId: last.id,
        });
      }
      await run.journal.flush();
    }
  }

  /** Pages of contacts changed since the association cursor (with the outbound overlap). */
  private changedContacts(): AsyncGenerator<LocalContact[], void, undefined> {
    const { run } = this.scope;
    const scope = this.scope;
    const pageSize = run.tuning.localPageSize;
    return (async function* () {
      const state = await run.cursors.load(run.connection.id, CONTACT_COMPANY_CURSOR, 'to_crm');
      const start: LocalPosition | null = state.value
        ? {
            updatedAt: new Date(Date.parse(state.value.modifiedAt) - run.tuning.localOverlapMs).toISOString(),
          }
        : null;
      const pages = paginate<{ contacts: LocalContact[]; nextPageToken?: string }>(
        async (token) => {
          const after = token === undefined ? start : (JSON.parse(token) as LocalPosition);
          const contacts = await run.locals.changedSince(scope.run.connection.tenantId, after, pageSize);
          const last = contacts[contacts.length - 1];
          const next =
            last && contacts.length >= pageSize
              ? { updatedAt: last.updatedAt.toISOString(), id: last.id }
              : undefined;
          return { contacts, nextPageToken: next && JSON.stringify(next) };
        },
        { signal: run.signal },
      );
      for await (const page of pages) {
        if (page.contacts.length === 0) return;
        yield page.contacts;
      }
    })();
  }

  /** Associates a page of contacts; returns the ids of those the CRM refused (put on the retry list). */
  private async associatePage(contacts: readonly LocalContact[]): Promise<Set<string>> {
    const { run, companies, mapping } = this.scope;
    const { connection, journal, crmName } = run;
    const live = contacts.filter(
      (contact) => !contact.deletedAt && normaliseCompanyName(contact.values.company),
    );
    if (live.length === 0) return new Set();
    const contactLinks = (
      await run.links.findByLocalIds(
        connection.id,
        live.map((contact) => contact.id),
      )
    ).filter((link) => this.contactObjects.includes(link.crmObject));
    if (contactLinks.length === 0) return new Set();
    const locals = (
      await companies.findMatching(connection.tenantId, {
        domains: [],
        names: live.flatMap((contact) => normaliseCompanyName(contact.values.company) ?? []),
      })
    ).filter((company) => !company.deletedAt);
    const companyLinks = new Map(
      (
        await run.links.findByLocalIds(
          connection.id,
          locals.map((company) => company.id),
          LOCAL_COMPANY_OBJECT,
        )
      )
        .filter((link) => link.crmObject === mapping.object && link.localObject === LOCAL_COMPANY_OBJECT)
        .map((link) => [link.localId, link]),
    );
    const contactById = new Map(live.map((contact) => [contact.id, contact]));
    const pending: { link: LinkSnapshot; contact: LocalContact; companyCrmId: string }[] = [];
    for (const link of contactLinks) {
      const contact = contactById.get(link.localId) as LocalContact;
      const [company] = matchingCompanies({ name: contact.values.company }, locals, companyValues);
      const companyCrmId = company ? companyLinks.get(company.id)?.crmId : undefined;
      if (companyCrmId === undefined) continue;
      if (link.synced[ASSOCIATED_COMPANY_KEY]?.value === companyCrmId) continue;
      pending.push({ link, contact, companyCrmId });
    }
    const saved: LinkSnapshot[] = [];
    const retryLater: RetryItem[] = [];
    for (const contactObject of this.contactObjects) {
      const pairs = pending.filter((entry) => entry.link.crmObject === contactObject);
      if (pairs.length === 0) continue;
      const results = await this.associateOrRefuse({
        object: contactObject,
        toObject: mapping.object,
        pairs: pairs.map((entry) => ({ id: entry.link.crmId, toId: entry.companyCrmId })),
      });
      const counts = journal.count('to_crm', mapping.object);
      for (const entry of pairs) {
        const result = results.get(entry.link.crmId);
        const email = entry.contact.email;
        if (!result?.ok) {
          const message = result && !result.ok ? result.error.message : 'no result returned';
          counts.errors++;
          retryLater.push({
            direction: 'to_crm',
            object: CONTACT_COMPANY_CURSOR,
            recordId: entry.contact.id,
            recordKey: email,
            error: message,
          });
          journal.log({
            direction: 'to_crm',
            object: contactObject,
            recordKey: email,
            action: 'error',
            message: `Contact not associated: ${email} → ${crmName} ${mapping.object} ${entry.companyCrmId}: ${message}`,
            details: { crmId: entry.link.crmId, companyCrmId: entry.companyCrmId },
          });
          continue;
        }
        journal.log({
          direction: 'to_crm',
          object: contactObject,
          recordKey: email,
          action: 'updated',
          message: `Contact associated: ${email} → ${entry.contact.values.company} in ${crmName}`,
          details: { crmId: entry.link.crmId, companyCrmId: entry.companyCrmId },
        });
        saved.push({
          ...entry.link,
          synced: {
            ...entry.link.synced,
            [ASSOCIATED_COMPANY_KEY]: {
              value: entry.companyCrmId,
              side: 'penguinmails',
              at: run.now().toISOString(),
              rule: 'only_changed_side',
              runId: run.runId,
            },
          },
        });
      }
    }
    if (saved.length > 0) await run.links.save(connection.id, saved);
    await journal.retryLater(retryLater);
    return new Set(retryLater.map((item) => item.recordId));
  }

  /**
   * The CRM's answer per pair; a call the CRM refuses for its data (not a limit or an outage, which stop the run to
   * be resumed) is that refusal for each of its pairs, so they are logged and tried again, and the run goes on.
   */
  private async associateOrRefuse(request: AssociateRecordsRequest): Promise<Map<string, AssociateResult>> {
    try {
      return await this.scope.run.crm.associate(request);
    } catch (error) {
      if (!(error instanceof CrmError) || error.code !== CrmErrorCode.VALIDATION_FAILED) throw error;
      const refusal = { code: error.code, message: error.message, crmCode: error.crmCode };
      return new Map(request.pairs.map((pair) => [pair.id, { id: pair.id, ok: false, error: refusal }]));
    }
  }
}
