import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { SecretBox, type WebhookEndpoint } from '@pm/domain';
import { AuditService } from '../audit/audit.service';
import type { AuthContext } from '../auth/auth-context';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { API_CLOCK, type ApiClock } from '../http/api-clock';
import { ValidationProblem } from '../http/problem-details.filter';
import { ContactChangeRepository, WebhookRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { writtenReceiverProblem } from './receiver-address';
import { newWebhookSecret } from './webhook-signature';
import {
  WebhookDeliveryDto,
  type ListDeliveriesQuery,
  type RotateWebhookSecretDto,
  type SetWebhookEndpointDto,
  type WebhookDeliveryPageDto,
  type WebhookEndpointDto,
  type WebhookSecretDto,
} from './webhook.dto';

const DEFAULT_OVERLAP_HOURS = 24;

/** A tenant's webhook endpoint: its URL, its signing secret (shown once, rotatable), and its deliveries. */
@Injectable()
export class WebhookService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly changes: ContactChangeRepository,
    private readonly delivery: WebhookDeliveryService,
    private readonly tenants: TenantService,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    @Inject(API_CLOCK) private readonly clock: ApiClock,
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: Pick<CrmIntegrationsOptions, 'webhooks'>,
  ) {}

  async get(_auth: AuthContext, tenantId: string): Promise<WebhookEndpointDto> {
    return showEndpoint(await this.require(tenantId));
  }

  /**
   * Sets the URL. A new endpoint gets a secret (answered once) and hears of changes from now on; an existing one
   * keeps its secret and its place in the feed.
   */
  async set(
    auth: AuthContext,
    tenantId: string,
    dto: SetWebhookEndpointDto,
  ): Promise<{ created: boolean; body: WebhookSecretDto | WebhookEndpointDto }> {
    await this.tenants.require(tenantId);
    const refused = this.options.webhooks?.allowPrivateReceivers ? null : writtenReceiverProblem(dto.url);
    if (refused) throw new ValidationProblem([{ name: 'url', reason: refused }]);
    const existing = await this.webhooks.findEndpoint(tenantId);
    if (existing) {
      const before = existing.url;
      existing.url = dto.url;
      await this.webhooks.flush();
      await this.audit.record(auth, {
        tenantId,
        action: 'webhook.endpoint.updated',
        targetType: 'webhook_endpoint',
        targetId: existing.id,
        before: { url: before },
        after: { url: dto.url },
      });
      return { created: false, body: showEndpoint(existing) };
    }
    const endpoint = this.webhooks.createEndpoint(tenantId, {
      url: dto.url,
      feedPosition: await this.changes.latestId(tenantId),
    });
    const secret = newWebhookSecret();
    endpoint.secret = this.box.seal(secret, endpoint.id);
    await this.webhooks.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'webhook.endpoint.created',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      after: { url: dto.url },
    });
    return { created: true, body: { endpoint: showEndpoint(endpoint), secret } };
  }

  async remove(auth: AuthContext, tenantId: string): Promise<void> {
    const endpoint = await this.require(tenantId);
    this.webhooks.removeEndpoint(endpoint);
    await this.webhooks.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'webhook.endpoint.deleted',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      before: { url: endpoint.url },
    });
  }

  /** A new secret (answered once); the previous one still signs a second signature for the overlap. */
  async rotate(auth: AuthContext, tenantId: string, dto: RotateWebhookSecretDto): Promise<WebhookSecretDto> {
    const endpoint = await this.require(tenantId);
    const overlapHours = dto.overlapHours ?? DEFAULT_OVERLAP_HOURS;
    const now = this.clock.now();
    const secret = newWebhookSecret();
    endpoint.previousSecret = overlapHours > 0 ? endpoint.secret : null;
    endpoint.previousSecretExpiresAt =
      overlapHours > 0 ? new Date(now.getTime() + overlapHours * 3_600_000) : null;
    endpoint.secret = this.box.seal(secret, endpoint.id);
    await this.webhooks.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'webhook.secret.rotated',
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      after: { overlapHours },
    });
    return { endpoint: showEndpoint(endpoint), secret };
  }

  async deliveries(
    _auth: AuthContext,
    tenantId: string,
    query: ListDeliveriesQuery,
  ): Promise<WebhookDeliveryPageDto> {
    await this.tenants.require(tenantId);
    const limit = query.limit ?? 50;
    const page = await this.webhooks.pageDeliveries({
      tenantId,
      limit,
      status: query.status,
      before: query.cursor ? decodeDeliveryCursor(query.cursor) : undefined,
    });
    const last = page.at(-1);
    return {
      data: page.map((delivery) => WebhookDeliveryDto.from(delivery)),
      nextCursor: page.length === limit && last ? encodeDeliveryCursor(last.createdAt, last.id) : null,
    };
  }

  /** Sends a delivery again now, whatever its state, and answers how that went. */
  async redeliver(auth: AuthContext, tenantId: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    await this.tenants.require(tenantId);
    const delivery = await this.webhooks.findDelivery(tenantId, deliveryId);
    if (!delivery)
      throw new NotFoundException(`Webhook delivery "${deliveryId}" does not exist for this tenant`);
    const endpoint = await this.webhooks.findEndpoint(tenantId);
    const before = delivery.status;
    Object.assign(delivery, await this.delivery.attempt(endpoint, delivery, { manual: true }));
    await this.webhooks.flush();
    await this.audit.record(auth, {
      tenantId,
      action: 'webhook.delivery.redelivered',
      targetType: 'webhook_delivery',
      targetId: delivery.id,
      before: { status: before },
      after: { status: delivery.status, lastStatusCode: delivery.lastStatusCode ?? null },
    });
    return WebhookDeliveryDto.from(delivery);
  }

  private async require(tenantId: string): Promise<WebhookEndpoint> {
    await this.tenants.require(tenantId);
    const endpoint = await this.webhooks.findEndpoint(tenantId);
    if (!endpoint) throw new NotFoundException('No webhook endpoint is set for this tenant');
    return endpoint;
  }
}

function showEndpoint(endpoint: WebhookEndpoint): WebhookEndpointDto {
  return {
    url: endpoint.url,
    previousSecretExpiresAt: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeDeliveryCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}

function decodeDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at);
  if (!id || !CURSOR_ID.test(id) || Number.isNaN(createdAt.getTime()) || createdAt.getUTCFullYear() > 9999) {
    throw new ValidationProblem([{ name: 'cursor', reason: 'is not a cursor this API returned' }]);
  }
  return { createdAt, id };
}
