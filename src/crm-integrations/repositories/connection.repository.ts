import { Injectable } from '@nestjs/common';
import { CrmConnection, Tenant } from '@pm/domain';
import { CrmRepository } from './base.repository';

/**
 * CRM connections. The tenant-scoped methods are request-scoped (`em`): services change what they return and
 * flush. Those by bare id or for scheduling are called from workers and fork.
 */
@Injectable()
export class ConnectionRepository extends CrmRepository {
  listForTenant(tenantId: string): Promise<CrmConnection[]> {
    return this.em.find(CrmConnection, { tenant: tenantId }, { orderBy: { createdAt: 'asc' } });
  }

  /** Every tenant's connections: for a platform admin's screens only. */
  listAll(): Promise<CrmConnection[]> {
    return this.em.find(CrmConnection, {}, { orderBy: { createdAt: 'asc' } });
  }

  /** Scoped by tenant: another tenant's connection id finds nothing. */
  findForTenant(tenantId: string, id: string): Promise<CrmConnection | null> {
    return this.em.findOne(CrmConnection, { id, tenant: tenantId });
  }

  /** The tenant's connection to this CRM account, if any (a reconnect finds its connection here). */
  findForAccount(tenantId: string, provider: string, crmAccountId: string): Promise<CrmConnection | null> {
    return this.em.findOne(CrmConnection, { tenant: tenantId, provider, crmAccountId });
  }

  /** A new connection of the tenant, stored on the next `flush()`. */
  create(tenantId: string, provider: string): CrmConnection {
    return this.em.create(CrmConnection, { tenant: this.em.getReference(Tenant, tenantId), provider });
  }

  /** For webhook receivers: every connected connection to this CRM account, any tenant. */
  findConnectedForAccount(provider: string, crmAccountId: string): Promise<CrmConnection[]> {
    return this.fork().find(CrmConnection, { provider, crmAccountId, status: 'connected' });
  }

  /** For workers: by id, any tenant. */
  findById(id: string): Promise<CrmConnection | null> {
    return this.fork().findOne(CrmConnection, { id });
  }

  /** Connected connections the scheduler should look at: not paused without a time, or due by `now`. */
  findSchedulable(now: Date): Promise<CrmConnection[]> {
    return this.fork().find(CrmConnection, {
      status: 'connected',
      $or: [{ health: { $ne: 'paused' }, nextSyncAt: null }, { nextSyncAt: { $lte: now } }],
    });
  }

  /** Every connected connection (the periodic reconcile's candidates). */
  findConnected(): Promise<CrmConnection[]> {
    return this.fork().find(CrmConnection, { status: 'connected' });
  }

  /** Sets when each connection is next due, in one flush. */
  async setNextSyncAt(due: { id: string; at: Date }[]): Promise<void> {
    if (due.length === 0) return;
    const em = this.fork();
    const connections = await em.find(CrmConnection, { id: { $in: due.map((entry) => entry.id) } });
    const byId = new Map(connections.map((connection) => [connection.id, connection]));
    for (const entry of due) {
      const connection = byId.get(entry.id);
      if (connection) connection.nextSyncAt = entry.at;
    }
    await em.flush();
  }
}
