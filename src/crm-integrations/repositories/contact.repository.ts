import { Injectable } from '@nestjs/common';
import { Contact, normaliseEmail, Tenant } from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface ContactPageQuery {
  tenantId: string;
  limit: number;
  /** Keyset position: contacts after (updatedAt, id). */
  after?: { updatedAt: Date; id: string };
  email?: string;
}

@Injectable()
export class ContactRepository extends CrmRepository {
  findById(tenantId: string, id: string): Promise<Contact | null> {
    return this.em.findOne(Contact, { id, tenant: tenantId, deletedAt: null });
  }

  findByEmail(tenantId: string, email: string): Promise<Contact | null> {
    return this.em.findOne(Contact, { tenant: tenantId, email: normaliseEmail(email) });
  }

  /** Oldest change first, then id: the order outbound sync reads in, stable under concurrent writes. */
  page(query: ContactPageQuery): Promise<Contact[]> {
    const where: Record<string, unknown> = { tenant: query.tenantId, deletedAt: null };
    if (query.email) where.email = normaliseEmail(query.email);
    if (query.after) {
      where.$or = [
        { updatedAt: { $gt: query.after.updatedAt } },
        { updatedAt: query.after.updatedAt, id: { $gt: query.after.id } },
      ];
    }
    return this.em.find(Contact, where, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit: query.limit });
  }

  create(tenantId: string, email: string): Contact {
    return this.em.create(Contact, {
      email: normaliseEmail(email),
      tenant: this.em.getReference(Tenant, tenantId),
    });
  }
}
