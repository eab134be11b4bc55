import { CrmError, CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { Connection } from 'jsforce';
import type { ResolvedSalesforceConfig } from './config';
import { toCrmError } from './errors';
import { ObservingTransport } from './transport';

/**
 * A jsforce Connection for one connector call with one session. It gets the instance URL and the access token only:
 * no refresh token and no OAuth client, so jsforce never refreshes a session by itself (a 401 surfaces as
 * AUTH_EXPIRED and the token vault refreshes under its lock).
 */
export class SessionConnection {
  readonly conn: Connection;
  private readonly transport: ObservingTransport;

  constructor(
    private readonly session: CrmSession,
    config: ResolvedSalesforceConfig,
  ) {
    if (!session.instanceUrl) {
      throw new CrmError(
        CrmErrorCode.AUTH_REVOKED,
        'The Salesforce session has no instance URL; reconnect the account',
        { provider: 'salesforce' },
      );
    }
    this.conn = new Connection({
      instanceUrl: session.instanceUrl.replace(/\/+$/, ''),
      accessToken: session.accessToken,
      version: config.apiVersion,
    });
    this.transport = new ObservingTransport(config.timeoutMs, (response) => {
      if (Object.keys(response.observation).length > 0) session.onRateLimit?.(response.observation);
    });
    this.conn._transport = this.transport;
  }

  /** REST base of this session: `{instanceUrl}/services/data/v{version}`. */
  get baseUrl(): string {
    return this.conn._baseUrl();
  }

  /**
   * Runs one jsforce call, mapping whatever it throws to a CrmError. The session's signal rejects the call at once
   * (jsforce takes no AbortSignal; the request in flight is left to finish and its answer is dropped).
   */
  async call<T>(run: (conn: Connection) => Promise<T>): Promise<T> {
    const { signal } = this.session;
    if (signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'The Salesforce call was aborted by the caller', {
        provider: 'salesforce',
      });
    }
    let onAbort: (() => void) | undefined;
    const aborted =
      signal === undefined
        ? undefined
        : new Promise<never>((_, reject) => {
            onAbort = () =>
              reject(
                new CrmError(CrmErrorCode.ABORTED, 'The Salesforce call was aborted by the caller', {
                  provider: 'salesforce',
                }),
              );
            signal.addEventListener('abort', onAbort, { once: true });
          });
    try {
      const work = run(this.conn);
      // When the abort wins the race, the call's own later failure must not become an unhandled rejection.
      if (aborted) work.catch(() => undefined);
      return await (aborted ? Promise.race([work, aborted]) : work);
    } catch (error) {
      throw toCrmError(error, {
        response: this.transport.lastResponse,
        signal,
        secrets: [this.session.accessToken],
      });
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
}
