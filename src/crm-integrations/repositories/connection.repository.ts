import { Injectable } from '@nestjs/common';
import { CrmConnection } from '@pm/domain';
import { CrmRepository } from './base.repository';

@Injectable()
export class ConnectionRepository extends CrmRepository {
  listForTenant(tenantId: string): Promise<CrmConnection[]> {
    return this.em.find(CrmConnection, { tenant: tenantId }, { orderBy: { createdAt: 'asc' } });
  }

  /** Scoped by tenant: another tenant's connection id finds nothing. */
  findForTenant(tenantId: string, id: string): Promise<CrmConnection | null> {
    return this.em.findOne(CrmConnection, { id, tenant: tenantId });
  }
}
