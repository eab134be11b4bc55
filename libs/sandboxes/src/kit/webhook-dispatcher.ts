import { randomUUID } from 'node:crypto';
import { SeededRandom } from './random';

/**
 * Outbound change notifications. Each CRM module registers subscriptions (from its own webhook API or app
 * settings), builds the payload in its format and supplies a signer (HubSpot v3 HMAC headers; Pipedrive HTTP
 * Basic). Delivery is a real HTTP POST with bounded retries; every attempt is recorded for tests.
 */
export interface WebhookAuth {
  type: 'basic';
  username: string;
  password: string;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  /** Event types this subscription receives; `*` segments are wildcards (`added.person`, `*.person`, `*`). */
  events: string[];
  auth?: WebhookAuth;
  /** Signing secret, for CRMs that sign (HubSpot uses the app's client secret). */
  secret?: string;
  /** CRM-specific attributes (Pipedrive's user_id, version; HubSpot's subscriptionId, portalId). */
  meta?: Record<string, unknown>;
  createdAt: Date;
}

export interface WebhookEvent {
  /** Event type matched against subscriptions (`added.person`, `contact.propertyChange`). */
  type: string;
  /** The request body for one subscription and attempt (1-based), before JSON encoding. */
  payload: (subscription: WebhookSubscription, attempt: number) => unknown;
}

export interface WebhookSignRequest {
  method: 'POST';
  url: string;
  body: string;
  subscription: WebhookSubscription;
  /** Epoch ms at which the request is sent (HubSpot signs it). */
  timestampMs: number;
}

/** Returns extra headers for a delivery (signature, timestamp...). */
export type WebhookSigner = (request: WebhookSignRequest) => Record<string, string>;

export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  url: string;
  eventType: string;
  attempt: number;
  requestHeaders: Record<string, string>;
  requestBody: string;
  /** HTTP status answered by the receiver; undefined when the request failed. */
  status?: number;
  error?: string;
  ok: boolean;
  at: Date;
}

export interface WebhookDispatcherOptions {
  signer?: WebhookSigner;
  /** Attempts per delivery including the first (default 3). */
  maxAttempts?: number;
  /** Delay before retry n (ms); the last value repeats (default [250, 1000]). */
  retryDelaysMs?: number[];
  /** Per-attempt timeout (default 5000 ms). */
  timeoutMs?: number;
  /** Keeps only the newest deliveries (default 1000). */
  maxRecordedDeliveries?: number;
  now?: () => number;
}

/**
 * What goes wrong on the way, as with a real CRM's deliveries: set through `POST /__sandbox/webhooks/faults`.
 * Decisions come from a seeded generator, so a test with the same seed sees the same losses and duplicates.
 */
export interface WebhookFaults {
  /** Each event waits this long before its first attempt (ms). */
  delayMs?: number;
  /** Share of events never sent (0–1). */
  lossRate?: number;
  /** Share of events sent twice (same body, same event id). */
  duplicateRate?: number;
  /** Events are held and sent newest first, this many at a time (0 or 1: in order); `idle()` releases the rest. */
  reorderWindow?: number;
  seed?: number;
}

/** What the faults did so far. */
export interface WebhookFaultCounts {
  lost: number;
  duplicated: number;
  reordered: number;
}

export function webhookEventMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  const patternParts = pattern.split('.');
  const typeParts = type.split('.');
  return (
    patternParts.length === typeParts.length && patternParts.every((p, i) => p === '*' || p === typeParts[i])
  );
}

export class WebhookDispatcher {
  private readonly subs = new Map<string, WebhookSubscription>();
  private readonly recorded: WebhookDelivery[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  /** Pending retry waits, so stop() can end them at once. */
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;
  private faultSpec: WebhookFaults = {};
  private random = new SeededRandom(1);
  private held: Array<() => void> = [];
  private readonly faultCounts: WebhookFaultCounts = { lost: 0, duplicated: 0, reordered: 0 };
  signer: WebhookSigner | undefined;
  private readonly options: Required<Omit<WebhookDispatcherOptions, 'signer'>>;

  constructor(options: WebhookDispatcherOptions = {}) {
    this.signer = options.signer;
    this.options = {
      maxAttempts: options.maxAttempts ?? 3,
      retryDelaysMs: options.retryDelaysMs ?? [250, 1000],
      timeoutMs: options.timeoutMs ?? 5000,
      maxRecordedDeliveries: options.maxRecordedDeliveries ?? 1000,
      now: options.now ?? Date.now,
    };
  }

  subscribe(
    subscription: Omit<WebhookSubscription, 'id' | 'createdAt'> & { id?: string },
  ): WebhookSubscription {
    const created: WebhookSubscription = {
      ...subscription,
      id: subscription.id ?? randomUUID(),
      createdAt: new Date(this.options.now()),
    };
    this.subs.set(created.id, created);
    return created;
  }

  unsubscribe(id: string): boolean {
    return this.subs.delete(id);
  }

  subscriptions(): WebhookSubscription[] {
    return [...this.subs.values()];
  }

  getSubscription(id: string): WebhookSubscription | undefined {
    return this.subs.get(id);
  }

  /**
   * Delivers `event` to every matching subscription; resolves when all deliveries (with retries) are done. CRM
   * routes call it without awaiting (`void webhooks.emit(...)`), as a real CRM answers before notifying.
   */
  emit(event: WebhookEvent): Promise<WebhookDelivery[]> {
    const { lossRate = 0, duplicateRate = 0, reorderWindow = 0 } = this.faultSpec;
    if (lossRate > 0 && this.random.bool(lossRate)) {
      this.faultCounts.lost++;
      return Promise.resolve([]);
    }
    const copies = duplicateRate > 0 && this.random.bool(duplicateRate) ? 2 : 1;
    if (copies === 2) this.faultCounts.duplicated++;
    const send = (): Promise<WebhookDelivery[]> =>
      Promise.all(Array.from({ length: copies }, () => this.send(event))).then((all) => all.flat());
    if (reorderWindow <= 1) return send();
    return new Promise<WebhookDelivery[]>((resolve, reject) => {
      this.held.push(() => void send().then(resolve, reject));
      if (this.held.length >= reorderWindow) this.releaseHeld();
    });
  }

  /** Sets the delivery faults (replacing earlier ones); `{}` turns them off. */
  setFaults(faults: WebhookFaults): void {
    this.releaseHeld();
    this.faultSpec = { ...faults };
    this.random = new SeededRandom(faults.seed ?? 1);
  }

  faults(): WebhookFaults & { counts: WebhookFaultCounts; held: number } {
    return { ...this.faultSpec, counts: { ...this.faultCounts }, held: this.held.length };
  }

  /** Sends the held events, newest first. */
  private releaseHeld(): void {
    const held = this.held.splice(0).reverse();
    if (held.length > 1) this.faultCounts.reordered += held.length;
    for (const start of held) start();
  }

  private send(event: WebhookEvent): Promise<WebhookDelivery[]> {
    const targets = this.subscriptions().filter((s) =>
      s.events.some((p) => webhookEventMatches(p, event.type)),
    );
    const work = Promise.all(targets.map((subscription) => this.deliver(subscription, event)));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  /** Sends any held (reordered) events, then waits until every delivery so far has finished. */
  async idle(): Promise<void> {
    this.releaseHeld();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Every attempt so far, oldest first. */
  deliveries(): WebhookDelivery[] {
    return [...this.recorded];
  }

  /** Forgets deliveries (and subscriptions when `subscriptions` is true). */
  reset(subscriptions = false): void {
    this.recorded.length = 0;
    if (subscriptions) this.subs.clear();
    this.setFaults({});
    Object.assign(this.faultCounts, { lost: 0, duplicated: 0, reordered: 0 });
  }

  /** Stops retrying (the server is shutting down). */
  stop(): void {
    this.stopped = true;
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
  }

  private async deliver(subscription: WebhookSubscription, event: WebhookEvent): Promise<WebhookDelivery> {
    let last: WebhookDelivery | undefined;
    if (this.faultSpec.delayMs) await this.sleep(this.faultSpec.delayMs);
    for (let attempt = 1; attempt <= this.options.maxAttempts && !this.stopped; attempt++) {
      if (attempt > 1) {
        const delays = this.options.retryDelaysMs;
        await this.sleep(delays[Math.min(attempt - 2, delays.length - 1)] ?? 0);
        if (this.stopped) break;
      }
      last = await this.attempt(subscription, event, attempt);
      if (last.ok) break;
    }
    if (!last) throw new Error('webhook delivery stopped before its first attempt');
    return last;
  }

  private async attempt(
    subscription: WebhookSubscription,
    event: WebhookEvent,
    attempt: number,
  ): Promise<WebhookDelivery> {
    const body = JSON.stringify(event.payload(subscription, attempt));
    const timestampMs = this.options.now();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'crm-sandbox-webhooks/1.0',
    };
    if (subscription.auth)
      headers.authorization = `Basic ${Buffer.from(`${subscription.auth.username}:${subscription.auth.password}`).toString('base64')}`;
    Object.assign(
      headers,
      this.signer?.({ method: 'POST', url: subscription.url, body, subscription, timestampMs }),
    );
    const delivery: WebhookDelivery = {
      id: randomUUID(),
      subscriptionId: subscription.id,
      url: subscription.url,
      eventType: event.type,
      attempt,
      requestHeaders: headers,
      requestBody: body,
      ok: false,
      at: new Date(timestampMs),
    };
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer();
      delivery.status = response.status;
      delivery.ok = response.status >= 200 && response.status < 300;
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
    this.recorded.push(delivery);
    if (this.recorded.length > this.options.maxRecordedDeliveries) this.recorded.shift();
    return delivery;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}
