import { parseRateLimitHeaders } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import type { ResolvedPipedriveConfig } from './config';
import { crmErrorFromNetworkFailure, crmErrorFromResponse, crmErrorFromTokenResponse } from './errors';
import { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';

/**
 * A thin typed HTTP client for Pipedrive (fetch), chosen over the `pipedrive` SDK 33.7.0 because the SDK's axios
 * interceptors reject with `error.response.data` only and resolve with the body only: neither the HTTP status nor
 * the headers reach the caller. The connector needs both on every call — the status to tell 401 from 404 from 429
 * from 5xx, `retry-after` for RATE_LIMITED, and `x-ratelimit-*` for the shared budget (`session.onRateLimit`). Its
 * OAuth2Configuration is also stateful (it keeps the token and refreshes by itself), while the vault hands the
 * connector a session per call and owns refreshing. Request and response shapes follow the SDK's v2 models.
 * It never retries: the engine's retry policy does.
 */

export type QueryValue = string | number | boolean | undefined;

export interface PipedriveApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the company's API domain, e.g. `/api/v2/persons`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** The envelope of every Pipedrive answer. */
export interface PipedriveEnvelope<T> {
  success: boolean;
  data: T;
  additional_data?: { next_cursor?: string | null; more_items_in_collection?: boolean; next_start?: number };
}

export class PipedriveHttpClient {
  constructor(private readonly config: ResolvedPipedriveConfig) {}

  /** The company's API domain (`api_domain`, the session's instanceUrl), else the configured default. */
  apiBase(session: Pick<CrmSession, 'instanceUrl'>): string {
    return (session.instanceUrl ?? this.config.apiBaseUrl).replace(/\/+$/, '');
  }

  /** One API call with the session's bearer token; reports rate-limit headers; throws a mapped CrmError. */
  async api<T>(session: CrmSession, request: PipedriveApiRequest): Promise<PipedriveEnvelope<T>> {
    const url = new URL(`${this.apiBase(session)}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${session.accessToken}`,
      accept: 'application/json',
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const { status, body, responseHeaders } = await this.send(
      url,
      {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      },
      session.signal,
    );
    this.reportRateLimit(session, responseHeaders);
    const envelope = body as PipedriveEnvelope<T> | undefined;
    if (status < 200 || status > 299 || envelope?.success === false) {
      throw crmErrorFromResponse(status >= 200 && status <= 299 ? 400 : status, body, responseHeaders);
    }
    if (envelope === undefined || typeof envelope !== 'object') {
      throw new CrmError(
        CrmErrorCode.UNKNOWN,
        `Pipedrive answered ${request.method} ${request.path} without a body`,
        {
          provider: PIPEDRIVE_PROVIDER,
          status,
        },
      );
    }
    return envelope;
  }

  /** POST {oauth}/oauth/token with HTTP Basic client authentication (Pipedrive's only accepted method). */
  async token(form: Record<string, string>): Promise<Record<string, unknown>> {
    const { status, body } = await this.send(new URL(`${this.config.oauthBaseUrl}/oauth/token`), {
      method: 'POST',
      headers: {
        authorization: this.basicClientAuth(),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
    });
    if (status < 200 || status > 299) throw crmErrorFromTokenResponse(status, body);
    if (typeof body !== 'object' || body === null) {
      throw new CrmError(CrmErrorCode.UNKNOWN, 'The token endpoint answered without a JSON body', {
        provider: PIPEDRIVE_PROVIDER,
        status,
      });
    }
    return body as Record<string, unknown>;
  }

  /** POST {oauth}/oauth/revoke: revoking a refresh token also ends its access tokens. */
  async revoke(token: string, tokenTypeHint: 'refresh_token' | 'access_token'): Promise<void> {
    const { status, body } = await this.send(new URL(`${this.config.oauthBaseUrl}/oauth/revoke`), {
      method: 'POST',
      headers: {
        authorization: this.basicClientAuth(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, token_type_hint: tokenTypeHint }).toString(),
    });
    if (status < 200 || status > 299) throw crmErrorFromTokenResponse(status, body);
  }

  private basicClientAuth(): string {
    return `Basic ${Buffer.from(`${this.config.clientId}:${this.config.clientSecret}`).toString('base64')}`;
  }

  private reportRateLimit(session: CrmSession, headers: Headers): void {
    if (session.onRateLimit === undefined) return;
    const observation = parseRateLimitHeaders(PIPEDRIVE_HTTP_FACTS, headers);
    const present = Object.fromEntries(
      Object.entries(observation).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(present).length > 0) session.onRateLimit(present);
  }

  /** Sends with the client timeout and the caller's signal; reads the whole body so a reset mid-body is caught. */
  private async send(
    url: URL,
    init: RequestInit,
    callerSignal?: AbortSignal,
  ): Promise<{ status: number; body: unknown; responseHeaders: Headers }> {
    const timeoutMs = this.config.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal === undefined ? timeout : AbortSignal.any([callerSignal, timeout]);
    try {
      const response = await fetch(url, { ...init, signal });
      const raw = await response.text();
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw) as unknown;
        } catch {
          // A proxy's HTML error page: keep the status, report the start of the text as the message.
          body = { error: raw.slice(0, 200) };
        }
      }
      return { status: response.status, body, responseHeaders: response.headers };
    } catch (error) {
      throw crmErrorFromNetworkFailure(error, {
        timedOut: timeout.aborted,
        aborted: callerSignal?.aborted ?? false,
        timeoutMs,
      });
    }
  }
}
