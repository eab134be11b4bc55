import { resolveAllowedApiHosts } from '@pm/connector-kit';
import type { RateLimitPolicy } from '@pm/integration-port';
import { PIPEDRIVE_HTTP_FACTS } from './http-facts';

/** How to reach Pipedrive (or its sandbox) and how hard to push it. Client id and secret come from configuration. */
export interface PipedriveConnectorConfig {
  clientId: string;
  clientSecret: string;
  /** Pipedrive's OAuth server (authorize, token, revoke); default https://oauth.pipedrive.com. */
  oauthBaseUrl?: string;
  /**
   * The API base used when a session carries no `api_domain` (instanceUrl); default https://api.pipedrive.com.
   * OAuth sessions always carry the company's own domain, which wins.
   */
  apiBaseUrl?: string;
  /** Gives up on a request after this long (CrmErrorCode.TIMEOUT); default 30 s. */
  requestTimeoutMs?: number;
  /** Records one `upsertBatch` call takes; default 100. Pipedrive has no batch write: each is its own request. */
  maxWriteBatch?: number;
  /**
   * Port calls the engine may run at once against one account (capabilities.maxConcurrency); default 5. Each call
   * sends its own requests one after another, so this is also the most requests in flight per account.
   */
  maxConcurrency?: number;
  /** How far before the cursor a change read starts, for records committed with a slightly older stamp; 1 s. */
  readOverlapMs?: number;
  /** The account's limits as data: default the burst window of 80 requests / 2 s and 30,000 daily tokens. */
  rateLimits?: RateLimitPolicy[];
  /** Where a company's `api_domain` may point (default Pipedrive's own hosts); the configured bases are added. */
  allowedApiHosts?: string[];
}

export interface ResolvedPipedriveConfig {
  clientId: string;
  clientSecret: string;
  oauthBaseUrl: string;
  apiBaseUrl: string;
  requestTimeoutMs: number;
  maxWriteBatch: number;
  maxConcurrency: number;
  readOverlapMs: number;
  rateLimits: RateLimitPolicy[];
  allowedApiHosts: string[];
}

/**
 * Pipedrive's documented limits (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting): a burst limit
 * per token in a rolling 2-second window and a daily token budget per company. Both depend on the plan and seats;
 * these are the defaults of an Essential plan and can be overridden per deployment.
 */
export const DEFAULT_PIPEDRIVE_RATE_LIMITS: RateLimitPolicy[] = [
  { kind: 'window', limit: 80, windowMs: 2_000 },
  { kind: 'daily', limit: 30_000 },
];

export function resolvePipedriveConfig(config: PipedriveConnectorConfig): ResolvedPipedriveConfig {
  const oauthBaseUrl = (config.oauthBaseUrl ?? 'https://oauth.pipedrive.com').replace(/\/+$/, '');
  const apiBaseUrl = (config.apiBaseUrl ?? 'https://api.pipedrive.com').replace(/\/+$/, '');
  return {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    oauthBaseUrl,
    apiBaseUrl,
    requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
    maxWriteBatch: config.maxWriteBatch ?? 100,
    maxConcurrency: config.maxConcurrency ?? 5,
    readOverlapMs: config.readOverlapMs ?? 1_000,
    rateLimits: config.rateLimits ?? DEFAULT_PIPEDRIVE_RATE_LIMITS,
    allowedApiHosts: resolveAllowedApiHosts(
      PIPEDRIVE_HTTP_FACTS.allowedApiHosts ?? [],
      config.allowedApiHosts,
      [oauthBaseUrl, apiBaseUrl],
    ),
  };
}
