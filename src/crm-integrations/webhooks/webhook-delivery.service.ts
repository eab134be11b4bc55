import { Inject, Injectable, Logger } from '@nestjs/common';
import { newId, SecretBox, type WebhookDelivery, type WebhookEndpoint } from '@pm/domain';
import { ContactChangeDto } from '../contacts/contact-change.dto';
import type { ContactChangeListener } from '../contacts/contact-change-listener';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';
import { API_CLOCK, type ApiClock } from '../http/api-clock';
import { WebhookRepository } from '../repositories';
import { signWebhook, WEBHOOK_DELIVERY_HEADER, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature';
import { resolvedReceiverProblem } from './receiver-address';
import { WebhookQueue } from './webhook-queue';

/** Feed entries per delivery. */
export const CHANGES_PER_DELIVERY = 100;
/** Deliveries made from the feed in one job, then sent; more waits for the next job. */
const SLICES_PER_RUN = 20;
const DUE_PER_RUN = 50;
/** How long a worker holds a delivery it is sending before another may take it. */
const SEND_LEASE_MS = 60_000;
const SEND_TIMEOUT_MS = 10_000;
/** Retries: 30 s, 1 min, 2 min … doubling up to 2 h between attempts, for a day after the delivery was made. */
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 2 * 60 * 60 * 1000;
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);
}

/** How one attempt went, as stored. */
export type AttemptOutcome = Pick<
  WebhookDelivery,
  'status' | 'attempts' | 'lastError' | 'lastStatusCode' | 'nextAttemptAt' | 'lastAttemptAt' | 'deliveredAt'
>;

/** What a webhook job did, and when the tenant's next attempt is due. */
export interface WebhookRunResult {
  made: number;
  delivered: number;
  retrying: number;
  failed: number;
  nextAttemptAt: Date | null;
}

/**
 * Outbound webhooks of the contact change feed: turns a tenant's new feed entries into deliveries (each a fixed
 * body), signs each attempt with HMAC-SHA256 over `timestamp.body`, and retries with exponential backoff for a day.
 * The secret is only ever used to sign: it is never logged, stored in clear, or sent.
 */
@Injectable()
export class WebhookDeliveryService implements ContactChangeListener {
  private readonly logger = new Logger('WebhookDelivery');

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly box: SecretBox,
    private readonly queue: WebhookQueue,
    @Inject(API_CLOCK) private readonly clock: ApiClock,
    @Inject(CRM_INTEGRATIONS_OPTIONS) private readonly options: Pick<CrmIntegrationsOptions, 'webhooks'>,
  ) {}

  /** The sync engine recorded changes: a job takes them (one waiting job per tenant covers a burst). */
  async changesRecorded(tenantId: string): Promise<void> {
    await this.queue.enqueue(tenantId);
  }

  /** The webhook job of a tenant: new feed entries become deliveries, then every due delivery is attempted. */
  async run(tenantId: string): Promise<WebhookRunResult> {
    const result: WebhookRunResult = { made: 0, delivered: 0, retrying: 0, failed: 0, nextAttemptAt: null };
    for (let slice = 0; slice < SLICES_PER_RUN; slice++) {
      const made = await this.webhooks.takeFeedSlice(tenantId, CHANGES_PER_DELIVERY, ({ changes }) => {
        const now = this.clock.now();
        const id = newId();
        const body = JSON.stringify({
          id,
          type: 'contacts.changed',
          tenantId,
          createdAt: now.toISOString(),
          changes: changes.map((change) => ContactChangeDto.from(change)),
        });
        return { id, body, createdAt: now, nextAttemptAt: now };
      });
      if (!made) break;
      result.made++;
    }
    const now = this.clock.now();
    const due = await this.webhooks.claimDue(
      tenantId,
      now,
      new Date(now.getTime() + SEND_LEASE_MS),
      DUE_PER_RUN,
    );
    if (due.length > 0) {
      const endpoint = await this.webhooks.findEndpointForDelivery(tenantId);
      for (const delivery of due) {
        const outcome = await this.attempt(endpoint, delivery, { manual: false });
        await this.webhooks.saveAttempt(delivery.id, outcome);
        if (outcome.status === 'delivered') result.delivered++;
        else if (outcome.status === 'failed') result.failed++;
        else result.retrying++;
      }
    }
    result.nextAttemptAt = await this.webhooks.nextAttemptAt(tenantId);
    return result;
  }

  /**
   * Sends a delivery once and says how that leaves it. A manual redelivery that fails leaves a failed delivery
   * failed (and a pending one on its schedule), so asking again never extends the day of retries.
   */
  async attempt(
    endpoint: WebhookEndpoint | null,
    delivery: WebhookDelivery,
    options: { manual: boolean },
  ): Promise<AttemptOutcome> {
    const now = this.clock.now();
    const attempts = delivery.attempts + 1;
    const sent = endpoint
      ? await this.send(endpoint, delivery, now)
      : { ok: false as const, status: null, error: 'No webhook endpoint is set for this tenant' };
    if (sent.ok) {
      return {
        status: 'delivered',
        attempts,
        lastError: null,
        lastStatusCode: sent.status,
        nextAttemptAt: null,
        lastAttemptAt: now,
        deliveredAt: now,
      };
    }
    const retryAt = new Date(now.getTime() + retryDelayMs(attempts));
    const giveUp = retryAt.getTime() > delivery.createdAt.getTime() + RETRY_WINDOW_MS;
    const stays = options.manual && delivery.status !== 'pending';
    return {
      status: stays ? delivery.status : giveUp ? 'failed' : 'pending',
      attempts,
      lastError: sent.error,
      lastStatusCode: sent.status,
      nextAttemptAt: stays || giveUp ? null : retryAt,
      lastAttemptAt: now,
      deliveredAt: delivery.deliveredAt ?? null,
    };
  }

  /** The secrets that sign now: the current one, and the previous one during its overlap. */
  signingSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
    const secrets = [this.box.open(endpoint.secret, endpoint.id)];
    if (
      endpoint.previousSecret &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > now
    ) {
      secrets.push(this.box.open(endpoint.previousSecret, endpoint.id));
    }
    return secrets;
  }

  private async send(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    now: Date,
  ): Promise<{ ok: true; status: number } | { ok: false; status: number | null; error: string }> {
    const timestamp = Math.floor(now.getTime() / 1000);
    let secrets: string[];
    try {
      secrets = this.signingSecrets(endpoint, now);
    } catch {
      // Never the secret or the cipher's detail: only that the configured keys do not open it.
      return {
        ok: false,
        status: null,
        error: 'The signing secret cannot be opened with the configured keys',
      };
    }
    const refused = await this.refusedReceiver(endpoint.url);
    if (refused) return { ok: false, status: null, error: `Not sent: ${refused}` };
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'PenguinMails-CRM-Webhooks/1',
          [WEBHOOK_DELIVERY_HEADER]: delivery.id,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(delivery.body, timestamp, secrets),
        },
        body: delivery.body,
      });
      // The receiver's body is not kept: it is the receiver's business, and may hold anything.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
      return {
        ok: false,
        status: response.status,
        error: `The receiver answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      this.logger.debug(`Webhook ${delivery.id} not delivered: ${reason}`);
      return { ok: false, status: null, error: `Could not reach the receiver: ${reason}` };
    }
  }

  /** Why the endpoint may not be called now (a non-public address), unless the host allows private receivers. */
  private async refusedReceiver(url: string): Promise<string | null> {
    if (this.options.webhooks?.allowPrivateReceivers) return null;
    // A name that does not resolve is left to fetch, which reports it like any unreachable receiver.
    return resolvedReceiverProblem(url).catch(() => null);
  }
}
