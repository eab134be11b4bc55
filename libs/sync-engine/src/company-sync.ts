import { CompanyAssociations } from './company-associations';
import { CompanyInboundPass } from './company-inbound';
import { companyObjectToSync, type CompanyMappingSource } from './company-mapping';
import { CompanyOutboundPass } from './company-outbound';
import type { LocalCompanyStore } from './company-ports';
import type { CompanyRunScope } from './company-sync-scope';
import type { SyncRunScope } from './sync-run-scope';

/**
 * Companies as an object of their own within a connection's run, when its settings select the CRM's company object
 * (Account, companies, organizations) and the connector declares a company mapping for it. The contact runner
 * calls it around the contact passes: companies in before contacts in; companies out (creating those contacts name)
 * before contacts out; contacts associated with their companies last, once both sides are linked.
 */
export class CompanySync {
  private outbound?: CompanyOutboundPass;

  private constructor(
    private readonly scope: CompanyRunScope,
    private readonly associations: CompanyAssociations,
  ) {}

  /** The company sync of a run, or undefined when the connection does not sync companies. */
  static async forRun(
    run: SyncRunScope,
    companies: LocalCompanyStore | undefined,
    contactObjects: readonly string[],
    mappings?: CompanyMappingSource,
  ): Promise<CompanySync | undefined> {
    if (companies === undefined) return undefined;
    const mapping = await companyObjectToSync(
      run.crm.capabilities,
      run.connection,
      run.connection.settings.objects,
      mappings,
    );
    if (mapping === undefined) return undefined;
    const scope: CompanyRunScope = { run, companies, mapping };
    const associable = contactObjects.filter((object) => mapping.associates.includes(object));
    return new CompanySync(scope, new CompanyAssociations(scope, associable, contactObjects));
  }

  /** CRM → PenguinMails, before the contacts' inbound pass. */
  async inbound(): Promise<void> {
    await new CompanyInboundPass(this.scope).sync();
  }

  /** The CRM object synced as companies ('companies', 'organizations', 'Account'). */
  get object(): string {
    return this.scope.mapping.object;
  }

  /** CRM → PenguinMails for the named companies only (change hints); returns the ids the CRM still holds. */
  inboundNamed(crmIds: readonly string[]): Promise<Set<string>> {
    return new CompanyInboundPass(this.scope).syncNamed(crmIds);
  }

  /** PenguinMails → CRM, before the contacts' outbound pass: companies named by contacts first exist locally. */
  async outboundBeforeContacts(): Promise<void> {
    await this.associations.ensureLocalCompanies();
    this.outbound = new CompanyOutboundPass(this.scope);
    await this.outbound.sync();
  }

  /** After the contacts' outbound pass: contacts associated with their companies on the CRM side. */
  async associateContacts(): Promise<void> {
    await this.associations.associate(this.outbound?.newlyLinked ?? []);
    await this.scope.run.journal.flush();
  }
}
