import { Injectable } from '@nestjs/common';
import { ProviderSetting } from '@pm/domain';
import { CrmRepository } from './base.repository';

/** The admin's per-CRM switches. Read by requests and workers alike: forks. */
@Injectable()
export class ProviderSettingRepository extends CrmRepository {
  /** The provider's switches that apply to the tenant: the tenant's own and the global one. */
  findForTenant(provider: string, tenantId: string): Promise<ProviderSetting[]> {
    return this.fork().find(ProviderSetting, { provider, $or: [{ tenant: tenantId }, { tenant: null }] });
  }
}
