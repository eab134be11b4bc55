import { parseRateLimitHeaders } from '@pm/connector-kit';
import type { RateLimitObservation } from '@pm/integration-port';
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce';
// jsforce keeps its HTTP transport (and StreamPromise) out of the package's runtime index; the transport module is
// what Connection and OAuth2 call through `_transport`, and the only place that sees every response's status and
// headers.
import { Transport } from 'jsforce/lib/transport';
import { StreamPromise } from 'jsforce/lib/util/promise';
import { SALESFORCE_HTTP_FACTS } from './http-facts';

/** One HTTP answer as the connector saw it: what jsforce's errors do not carry (status, Retry-After, limits). */
export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  observation: RateLimitObservation;
}

/**
 * jsforce's transport with its own retries switched off and a client timeout, reporting every response. jsforce
 * retries 420/429/5xx and connection errors for GET/PUT/DELETE five times with backoff and ignores Retry-After;
 * retries belong to the engine's policy, so none happen here (`methods: []` stops them all, `maxRetries: 0` too).
 */
export class ObservingTransport extends Transport {
  /** The last answer received; a connector call makes its HTTP requests one after another. */
  lastResponse: ObservedResponse | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onResponse?: (response: ObservedResponse) => void,
  ) {
    super();
  }

  override httpRequest(request: HttpRequest, options: HttpRequestOptions = {}): StreamPromise<HttpResponse> {
    const merged: HttpRequestOptions = {
      ...options,
      timeout: this.timeoutMs,
      retry: { maxRetries: 0, methods: [], statusCodes: [], errorCodes: [] },
    };
    this.lastResponse = undefined;
    return StreamPromise.create(() => {
      const inner = super.httpRequest(request, merged);
      const promise = inner.then((response) => {
        this.observe(response);
        return response;
      });
      return { stream: inner.stream(), promise };
    });
  }

  private observe(response: HttpResponse): void {
    const observation = parseRateLimitHeaders(SALESFORCE_HTTP_FACTS, response.headers);
    this.lastResponse = { status: response.statusCode, headers: response.headers, observation };
    this.onResponse?.(this.lastResponse);
  }
}
