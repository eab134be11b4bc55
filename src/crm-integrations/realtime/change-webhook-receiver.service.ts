import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Optional,
  UnauthorizedException,
} from '@nestjs/common';
import {
  CrmError,
  CrmErrorCode,
  INTEGRATION_PORTS,
  type IntegrationPort,
  type IntegrationPortMap,
  type WebhookEvent,
  type WebhookRequest,
  type WebhookSecrets,
} from '@pm/integration-port';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { ConnectionRepository } from '../repositories';
import { CHANGE_HINT_SINK, type ChangeHint, type ChangeHintSink } from './change-hints';
import { RealtimeChannelService } from './realtime-channel.service';
import { REALTIME_OPTIONS, resolveRealtimeOptions, type RealtimeOptions } from './realtime.tokens';

/** An HTTP request as the receiver needs it: the body exactly as sent, since the signature covers its bytes. */
export interface IncomingWebhook {
  method: string;
  /** Path and query as received (`/webhooks/hubspot?x=1`). */
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body (setupCrmHttp's parser), or Nest's `rawBody` when the host enabled it. */
  body?: unknown;
  rawBody?: Buffer;
}

export interface WebhookAccepted {
  /** Hints queued (one per connection and record). */
  accepted: number;
}

/** The one answer to any credential or signature failure, whether or not the connection exists. */
const REFUSED = 'The webhook request is not signed or authenticated for this receiver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Receives CRM change webhooks: verifies the signature (HubSpot v3 with its timestamp window) or the connection's
 * HTTP Basic credentials (Pipedrive) with the connector's own `parseWebhook` before anything in the body is
 * trusted, turns the events into change hints for the real-time connections they belong to, and hands them to the
 * sink, which only stores and queues: the CRM gets its answer at once. A forged or unauthenticated request gets
 * the same 401 whether the connection exists or not.
 */
@Injectable()
export class ChangeWebhookReceiver {
  private readonly logger = new Logger('ChangeWebhookReceiver');
  private readonly now: () => Date;

  constructor(
    private readonly connections: ConnectionRepository,
    private readonly channels: RealtimeChannelService,
    @Inject(CHANGE_HINT_SINK) private readonly sink: ChangeHintSink,
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: CrmIntegrationsOptions,
    @Optional() @Inject(INTEGRATION_PORTS) private readonly ports?: IntegrationPortMap,
    @Optional() @Inject(REALTIME_OPTIONS) realtime?: RealtimeOptions,
  ) {
    this.now = resolveRealtimeOptions(realtime).now;
  }

  /** HubSpot's app-level webhook: every portal's events, each told apart by its portalId. */
  async hubspot(request: IncomingWebhook): Promise<WebhookAccepted> {
    const port = this.ports?.hubspot;
    const secret = this.options.webhookSecrets?.hubspot;
    if (!port || !secret) throw new NotFoundException('HubSpot webhooks are not configured on this service');
    const events = this.verified(port, request, { secret });
    const hints: ChangeHint[] = [];
    for (const [accountId, accountEvents] of groupBy(events, (event) => event.accountId)) {
      const connections = await this.connections.findConnectedForAccount('hubspot', accountId);
      for (const connection of connections.filter((candidate) => candidate.settings.realtime)) {
        hints.push(...accountEvents.map((event) => toHint(connection.id, event)));
      }
    }
    return this.hand(hints);
  }

  /** Pipedrive's per-connection webhook, authenticated by the connection's own HTTP Basic credentials. */
  async pipedrive(connectionId: string, request: IncomingWebhook): Promise<WebhookAccepted> {
    const port = this.ports?.pipedrive;
    const secrets = port && UUID.test(connectionId) ? await this.channels.secretsFor(connectionId) : null;
    // Unknown connection, no credentials, wrong credentials: one answer, so nobody learns which connections exist.
    if (!port || !secrets) throw new UnauthorizedException(REFUSED);
    const events = this.verified(port, request, secrets);
    const connection = await this.connections.findById(connectionId);
    if (!connection || connection.status !== 'connected' || !connection.settings.realtime)
      return { accepted: 0 };
    // Events of another Pipedrive company than the connection's are not its changes.
    const own = events.filter(
      (event) => !connection.crmAccountId || !event.accountId || event.accountId === connection.crmAccountId,
    );
    return this.hand(own.map((event) => toHint(connection.id, event)));
  }

  private verified(port: IntegrationPort, request: IncomingWebhook, secrets: WebhookSecrets): WebhookEvent[] {
    const rawBody = rawBodyOf(request);
    if (!rawBody) {
      throw new BadRequestException(
        'The webhook body did not reach the receiver as sent (mount the plugin with setupCrmHttp, or rawBody: true)',
      );
    }
    const webhook: WebhookRequest = {
      method: request.method,
      url: `${this.options.publicUrl.replace(/\/+$/, '')}${request.originalUrl}`,
      headers: request.headers,
      rawBody,
      receivedAt: this.now(),
    };
    try {
      return port.parseWebhook(webhook, secrets);
    } catch (error) {
      if (CrmError.is(error, CrmErrorCode.INVALID_SIGNATURE)) {
        this.logger.warn(`Webhook refused on ${port.provider}: ${(error as Error).message}`);
        throw new UnauthorizedException(REFUSED);
      }
      if (error instanceof CrmError) throw new BadRequestException(error.message);
      throw new BadRequestException('The webhook body could not be read');
    }
  }

  private async hand(hints: ChangeHint[]): Promise<WebhookAccepted> {
    const usable = hints.filter((hint) => hint.crmIds.every((id) => id !== ''));
    if (usable.length > 0) await this.sink.accept(usable);
    return { accepted: usable.length };
  }
}

function rawBodyOf(request: IncomingWebhook): Buffer | undefined {
  if (Buffer.isBuffer(request.body)) return request.body;
  return request.rawBody;
}

function toHint(connectionId: string, event: WebhookEvent): ChangeHint {
  const occurredAt = new Date(event.occurredAt);
  return {
    connectionId,
    object: event.object,
    crmIds: [event.recordId],
    action: event.action,
    occurredAt: Number.isNaN(occurredAt.getTime()) ? new Date() : occurredAt,
    ...(event.eventId !== undefined ? { eventId: event.eventId } : {}),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
