import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { ProviderSetting } from '@pm/domain';
import { IntegrationPortRegistry } from '@pm/integration-port';
import { CRM_ORM } from '../database/crm-database';

/** Admin control over CRMs: a tenant's own switch wins over the global one; no switch means enabled. */
@Injectable()
export class ProviderAccessService {
  constructor(
    @Inject(CRM_ORM) private readonly orm: MikroORM,
    private readonly registry: IntegrationPortRegistry,
  ) {}

  installed(): string[] {
    return this.registry.providers();
  }

  async isEnabled(provider: string, tenantId: string): Promise<boolean> {
    const settings = await this.orm.em
      .fork()
      .find(ProviderSetting, { provider, $or: [{ tenant: tenantId }, { tenant: null }] });
    const own = settings.find((setting) => setting.tenant?.id === tenantId);
    const global = settings.find((setting) => !setting.tenant);
    return (own ?? global)?.enabled ?? true;
  }
}
