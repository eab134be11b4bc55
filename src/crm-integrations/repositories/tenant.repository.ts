import { Injectable } from '@nestjs/common';
import { Tenant } from '@pm/domain';
import { CrmRepository } from './base.repository';

@Injectable()
export class TenantRepository extends CrmRepository {
  find(id: string): Promise<Tenant | null> {
    return this.em.findOne(Tenant, { id });
  }

  /** For workers (outside any request): whether the tenant exists and is active. */
  async isActive(id: string): Promise<boolean> {
    const tenant = await this.fork().findOne(Tenant, { id }, { fields: ['active'] });
    return tenant?.active === true;
  }

  async upsert(
    id: string,
    name: string,
  ): Promise<{ tenant: Tenant; created: boolean; before?: { name: string } }> {
    const existing = await this.find(id);
    if (existing) {
      const before = { name: existing.name };
      existing.name = name;
      await this.em.flush();
      return { tenant: existing, created: false, before };
    }
    const tenant = this.em.create(Tenant, { id, name });
    await this.em.flush();
    return { tenant, created: true };
  }
}
