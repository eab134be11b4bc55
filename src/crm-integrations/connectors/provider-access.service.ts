import { Injectable } from '@nestjs/common';
import { IntegrationPortRegistry } from '@pm/integration-port';
import { ProviderSettingRepository } from '../repositories';

/** Admin control over CRMs: a tenant's own switch wins over the global one; no switch means enabled. */
@Injectable()
export class ProviderAccessService {
  constructor(
    private readonly settings: ProviderSettingRepository,
    private readonly registry: IntegrationPortRegistry,
  ) {}

  installed(): string[] {
    return this.registry.providers();
  }

  async isEnabled(provider: string, tenantId: string): Promise<boolean> {
    const settings = await this.settings.findForTenant(provider, tenantId);
    const own = settings.find((setting) => setting.tenant?.id === tenantId);
    const global = settings.find((setting) => !setting.tenant);
    return (own ?? global)?.enabled ?? true;
  }
}
