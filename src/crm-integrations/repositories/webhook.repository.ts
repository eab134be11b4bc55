import { Injectable } from '@nestjs/common';
import { LockMode } from '@mikro-orm/postgresql';
import {
  ContactChange,
  Tenant,
  WebhookDelivery,
  WebhookEndpoint,
  type WebhookDeliveryStatus,
} from '@pm/domain';
import { CrmRepository } from './base.repository';

export interface DeliveryPageQuery {
  tenantId: string;
  limit: number;
  status?: WebhookDeliveryStatus;
  /** Keyset position: deliveries before (createdAt, id), newest first. */
  before?: { createdAt: Date; id: string };
}

/** A slice of the feed turned into a delivery: the entries, and the body built from them. */
export interface FeedSlice {
  endpoint: WebhookEndpoint;
  changes: ContactChange[];
}

/** Webhook endpoints (one per tenant) and their deliveries. */
@Injectable()
export class WebhookRepository extends CrmRepository {
  /** The tenant's endpoint with its sealed secrets loaded (request context). */
  findEndpoint(tenantId: string): Promise<WebhookEndpoint | null> {
    return this.em.findOne(WebhookEndpoint, { tenant: tenantId }, { populate: ['secret', 'previousSecret'] });
  }

  createEndpoint(tenantId: string, values: Pick<WebhookEndpoint, 'url' | 'feedPosition'>): WebhookEndpoint {
    return this.em.create(WebhookEndpoint, {
      ...values,
      tenant: this.em.getReference(Tenant, tenantId),
      // Sealed by the caller once the id is known (it is the associated data).
      secret: { keyId: '', sealed: '' },
    });
  }

  removeEndpoint(endpoint: WebhookEndpoint): void {
    this.em.remove(endpoint);
  }

  /** For workers: the endpoint with its secrets, on a context of its own. */
  findEndpointForDelivery(tenantId: string): Promise<WebhookEndpoint | null> {
    return this.fork().findOne(
      WebhookEndpoint,
      { tenant: tenantId },
      { populate: ['secret', 'previousSecret'] },
    );
  }

  /**
   * Turns the feed entries after the endpoint's position (at most `limit`) into one delivery, and moves the position
   * past them, in one transaction holding the endpoint's row lock: two workers never make the same delivery twice.
   * Returns null when nothing new waits (or the tenant has no endpoint).
   */
  async takeFeedSlice(
    tenantId: string,
    limit: number,
    build: (slice: FeedSlice) => Pick<WebhookDelivery, 'id' | 'body' | 'nextAttemptAt' | 'createdAt'>,
  ): Promise<WebhookDelivery | null> {
    return this.fork().transactional(async (em) => {
      const endpoint = await em.findOne(
        WebhookEndpoint,
        { tenant: tenantId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      if (!endpoint) return null;
      const changes = await em.find(
        ContactChange,
        { tenant: tenantId, id: { $gt: endpoint.feedPosition } },
        { orderBy: { id: 'asc' }, limit },
      );
      if (changes.length === 0) return null;
      const values = build({ endpoint, changes });
      const delivery = em.create(WebhookDelivery, {
        ...values,
        tenant: em.getReference(Tenant, tenantId),
        firstChangeId: changes[0].id,
        lastChangeId: changes.at(-1)!.id,
      });
      endpoint.feedPosition = changes.at(-1)!.id;
      return delivery;
    });
  }

  /**
   * Claims the tenant's pending deliveries that are due, oldest first, leasing each until `leaseUntil` (as its next
   * attempt) so another worker skips it while this one sends. Rows another worker holds are skipped, not waited for.
   */
  async claimDue(tenantId: string, now: Date, leaseUntil: Date, limit: number): Promise<WebhookDelivery[]> {
    const em = this.fork();
    const rows = await em.getConnection().execute<{ id: string }[]>(
      `update webhook_deliveries set next_attempt_at = ?
        where id in (select id from webhook_deliveries
                      where tenant_id = ? and status = 'pending' and next_attempt_at <= ?
                      order by created_at, id limit ? for update skip locked)
        returning id`,
      [leaseUntil, tenantId, now, limit],
    );
    if (rows.length === 0) return [];
    return em.find(
      WebhookDelivery,
      { id: { $in: rows.map((row) => row.id) } },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
  }

  /** The earliest next attempt of the tenant's pending deliveries, if any. */
  async nextAttemptAt(tenantId: string): Promise<Date | null> {
    const [next] = await this.fork().find(
      WebhookDelivery,
      { tenant: tenantId, status: 'pending' },
      { orderBy: { nextAttemptAt: 'asc' }, limit: 1, fields: ['nextAttemptAt'] },
    );
    return next?.nextAttemptAt ?? null;
  }

  /** Stores an attempt's outcome (for a worker's delivery, found on its own context). */
  async saveAttempt(
    id: string,
    values: Pick<
      WebhookDelivery,
      | 'status'
      | 'attempts'
      | 'lastError'
      | 'lastStatusCode'
      | 'nextAttemptAt'
      | 'lastAttemptAt'
      | 'deliveredAt'
    >,
  ): Promise<void> {
    await this.fork().nativeUpdate(WebhookDelivery, { id }, values);
  }

  findDelivery(tenantId: string, id: string): Promise<WebhookDelivery | null> {
    return this.em.findOne(WebhookDelivery, { tenant: tenantId, id });
  }

  /** Newest first. */
  pageDeliveries(query: DeliveryPageQuery): Promise<WebhookDelivery[]> {
    const where: Record<string, unknown> = { tenant: query.tenantId };
    if (query.status) where.status = query.status;
    if (query.before) {
      where.$or = [
        { createdAt: { $lt: query.before.createdAt } },
        { createdAt: query.before.createdAt, id: { $lt: query.before.id } },
      ];
    }
    return this.em.find(WebhookDelivery, where, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: query.limit,
    });
  }
}
