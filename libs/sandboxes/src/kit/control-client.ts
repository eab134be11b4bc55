import type { WebhookFaultCounts, WebhookFaults } from './webhook-dispatcher';
import type { FaultSpec } from './fault-injector';
import type { RateLimiterOptions } from './rate-limiter';
import type { RequestCounterSnapshot } from './request-counter';
import type { PurgeRequest, SandboxInfo, SeedRequest } from './sandbox-server';

/** A recordErrors fault as the control API takes it (serializable predicate). */
export interface RecordErrorsRequest {
  kind: 'recordErrors';
  object?: string;
  field: string;
  equals?: unknown;
  contains?: string;
  message: string;
  /** Field named in the error (defaults to `field`). */
  errorField?: string;
  code?: string;
  times?: number;
}

/**
 * Drives a sandbox running in another process (the `npm run sandbox` one, the benchmark) through its
 * `/__sandbox/*` control API.
 */
export class SandboxControlClient {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = `${baseUrl.replace(/\/+$/, '')}/__sandbox`;
  }

  info(): Promise<SandboxInfo> {
    return this.call('GET', '');
  }

  counters(): Promise<RequestCounterSnapshot> {
    return this.call('GET', '/counters');
  }

  resetCounters(): Promise<RequestCounterSnapshot> {
    return this.call('POST', '/counters/reset');
  }

  addFault(spec: FaultSpec | RecordErrorsRequest): Promise<{ id: string }> {
    return this.call('POST', '/faults', spec);
  }

  clearFaults(id?: string): Promise<void> {
    return this.call('DELETE', id ? `/faults/${encodeURIComponent(id)}` : '/faults');
  }

  setClock(change: {
    set?: string | number;
    advanceMs?: number;
    freeze?: boolean;
  }): Promise<{ now: string; frozen: boolean }> {
    return this.call('POST', '/clock', change);
  }

  setRateLimit(limits: RateLimiterOptions & { resetUsage?: boolean }): Promise<RateLimiterOptions> {
    const { now: _timeSourceCannotCrossProcesses, ...serializable } = limits;
    return this.call('POST', '/rate-limit', serializable);
  }

  issueTokens(options: { accountId?: string; scopes?: string[] } = {}): Promise<{
    accessToken: string;
    refreshToken: string;
    expiresAt: string;
    response: Record<string, unknown>;
  }> {
    return this.call('POST', '/oauth/tokens', options);
  }

  expireAccessTokens(): Promise<{ expired: number }> {
    return this.call('POST', '/oauth/expire-access-tokens');
  }

  revokeRefreshTokens(): Promise<{ revoked: number }> {
    return this.call('POST', '/oauth/revoke-refresh-tokens');
  }

  /** Webhook delivery faults (delay, loss, duplication, reordering); `{}` turns them off. */
  setWebhookFaults(
    faults: WebhookFaults,
  ): Promise<WebhookFaults & { counts: WebhookFaultCounts; held: number }> {
    return this.call('POST', '/webhooks/faults', faults);
  }

  reset(options: { oauth?: boolean; clock?: boolean } = {}): Promise<void> {
    return this.call('POST', '/reset', options);
  }

  /** Removes records behind every client's back: no webhook, no recycle bin, no deletion a change read reports. */
  purge(request: PurgeRequest): Promise<{ purged: string[] }> {
    return this.call('POST', '/purge', request);
  }

  seed(request: SeedRequest): Promise<{ result: unknown }> {
    return this.call('POST', '/seed', request);
  }

  private async call<R>(method: string, path: string, body?: unknown): Promise<R> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`sandbox control ${method} ${path} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as R;
  }
}
