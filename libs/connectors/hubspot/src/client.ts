import { Client } from '@hubspot/api-client';
import { parseRateLimitHeaders, type HttpFacts } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import {
  HUBSPOT_API_BASE_URL,
  HUBSPOT_DEFAULT_TIMEOUT_MS,
  HUBSPOT_PROVIDER,
  type HubSpotConnectorConfig,
} from './config';
import {
  crmErrorFromHttpFailure,
  crmErrorFromTransport,
  type HubSpotErrorBody,
  type HubSpotOperation,
} from './errors';

/** The parts of the SDK's ResponseContext the middleware reads (lib/codegen/…/http/http.d.ts). */
interface SdkResponseContext {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string>; binary(): Promise<Buffer> };
}

/** The SDK's ApiException: HTTP status, the body as its model parsed it, and the headers. */
interface SdkApiException {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

function isApiException(error: unknown): error is SdkApiException {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'number' &&
    'headers' in error
  );
}

function parseJson(text: string): HubSpotErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as HubSpotErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One use of the official SDK for one connector call: a `Client` with the session's token, no SDK retries and no
 * SDK limiter (retries and pacing are the engine's), and a middleware that (1) reports every response's
 * X-HubSpot-RateLimit-* headers to `session.onRateLimit` and (2) keeps the raw body of a failed answer, because the
 * SDK's error model drops the fields that tell a daily 429 or a revoked refresh token apart (`policyName`, `status`).
 *
 * The SDK's decorator registry is a process-wide singleton that each `new Client()` overwrites and each API
 * group reads when first touched, so every API group used is touched here, synchronously, right after the
 * constructor: another Client configured elsewhere in the process (with retries) cannot leak into ours.
 */
export class HubSpotCall {
  readonly objects;
  readonly properties;
  readonly associations;
  readonly oauth;
  /**
   * The per-call options to pass as the last argument of every SDK call. In @hubspot/api-client 13.5 the
   * `middleware` given to `new Client()` is never run (the generated ObservableAPI only runs call-time middleware),
   * so the observer goes in with each call. Typed `never` because each generated module declares its own,
   * nominally distinct `PromiseConfigurationOptions`; this one object fits all of them.
   */
  readonly options: never;
  private lastFailureBody: HubSpotErrorBody | undefined;
  private readonly timeoutMs: number;

  constructor(
    config: HubSpotConnectorConfig,
    readonly facts: HttpFacts,
    private readonly session?: Pick<CrmSession, 'accessToken' | 'signal' | 'onRateLimit'>,
  ) {
    this.timeoutMs = config.requestTimeoutMs ?? HUBSPOT_DEFAULT_TIMEOUT_MS;
    const client = new Client({
      ...(session ? { accessToken: session.accessToken } : {}),
      basePath: (config.apiBaseUrl ?? HUBSPOT_API_BASE_URL).replace(/\/+$/, ''),
      numberOfApiCallRetries: 0,
    });
    this.options = {
      middleware: [
        {
          pre: (context: unknown) => Promise.resolve(context),
          post: (context: unknown) => this.observe(context),
        },
      ],
      middlewareMergeStrategy: 'append',
    } as never;
    this.objects = client.crm.objects;
    this.properties = client.crm.properties.coreApi;
    this.associations = client.crm.associations.v4.batchApi;
    this.oauth = client.oauth;
  }

  /**
   * Runs one SDK call: fails with TIMEOUT past the configured time, ABORTED when the session's signal fires, and
   * maps every other failure once. The SDK (node-fetch 2) takes no signal, so a timed-out request may still
   * complete at HubSpot: TIMEOUT says exactly that, and writes are safe to retry (upsert by e-mail, activity keys).
   */
  async run<T>(call: () => Promise<T>, operation: HubSpotOperation = 'api'): Promise<T> {
    const signal = this.session?.signal;
    if (signal?.aborted)
      throw new CrmError(CrmErrorCode.ABORTED, 'The HubSpot call was aborted', {
        provider: HUBSPOT_PROVIDER,
      });
    this.lastFailureBody = undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guards = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CrmError(CrmErrorCode.TIMEOUT, `HubSpot did not answer within ${this.timeoutMs} ms`, {
              provider: HUBSPOT_PROVIDER,
            }),
          ),
        this.timeoutMs,
      );
      if (signal) {
        onAbort = () =>
          reject(
            new CrmError(CrmErrorCode.ABORTED, 'The HubSpot call was aborted', {
              provider: HUBSPOT_PROVIDER,
            }),
          );
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      return await Promise.race([call(), guards]);
    } catch (error) {
      throw this.toCrmError(error, operation);
    } finally {
      clearTimeout(timer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private toCrmError(error: unknown, operation: HubSpotOperation): CrmError {
    if (error instanceof CrmError) return error;
    if (isApiException(error)) {
      const parsed =
        typeof error.body === 'object' && error.body !== null ? (error.body as HubSpotErrorBody) : undefined;
      return crmErrorFromHttpFailure(
        { status: error.code, body: this.lastFailureBody ?? parsed, headers: error.headers ?? {} },
        operation,
      );
    }
    return crmErrorFromTransport(error);
  }

  private async observe(context: unknown): Promise<unknown> {
    const response = context as SdkResponseContext;
    if (response.headers && this.session?.onRateLimit) {
      const observation = parseRateLimitHeaders(this.facts, response.headers);
      if (Object.keys(observation).length > 0) this.session.onRateLimit(observation);
    }
    if (response.httpStatusCode >= 400 && response.body) {
      // Read the body once and hand the SDK a copy it can read again.
      const raw = await response.body.binary();
      this.lastFailureBody = parseJson(raw.toString('utf8'));
      response.body = { text: async () => raw.toString('utf8'), binary: async () => raw };
    }
    return response;
  }
}
