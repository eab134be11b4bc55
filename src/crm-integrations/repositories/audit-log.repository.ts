import { Injectable } from '@nestjs/common';
import { AuditLogEntry } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface AuditRecord {
  tenantId?: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Append-only: there is deliberately no update or delete here (the database refuses them too). */
@Injectable()
export class AuditLogRepository extends CrmRepository {
  async append(record: AuditRecord): Promise<void> {
    this.em.create(AuditLogEntry, { ...record });
    await this.em.flush();
  }

  listForTenant(tenantId: string, limit = 100): Promise<AuditLogEntry[]> {
    return this.em.find(AuditLogEntry, { tenantId }, { orderBy: { at: 'desc', id: 'desc' }, limit });
  }
}
