import type { HttpFacts } from '@pm/connector-kit';
import {
  HUBSPOT_API_BASE_URL,
  HUBSPOT_MAX_SEARCH_PAGE,
  HUBSPOT_PROVIDER,
  type HubSpotConnectorConfig,
} from './config';

/** HubSpot's HTTP facts as data, read by connector-kit's header and token helpers. */
export function hubSpotHttpFacts(config: Pick<HubSpotConnectorConfig, 'apiBaseUrl'>): HttpFacts {
  return {
    provider: HUBSPOT_PROVIDER,
    baseUrl: config.apiBaseUrl ?? HUBSPOT_API_BASE_URL,
    pagination: {
      style: 'cursor',
      cursorParam: 'after',
      limitParam: 'limit',
      nextPath: 'paging.next.after',
      itemsPath: 'results',
      maxPageSize: HUBSPOT_MAX_SEARCH_PAGE,
    },
    rateLimitHeaders: {
      windowLimit: 'X-HubSpot-RateLimit-Max',
      windowRemaining: 'X-HubSpot-RateLimit-Remaining',
      windowIntervalMs: 'X-HubSpot-RateLimit-Interval-Milliseconds',
      dailyLimit: 'X-HubSpot-RateLimit-Daily',
      dailyRemaining: 'X-HubSpot-RateLimit-Daily-Remaining',
      retryAfter: 'Retry-After',
    },
    tokenResponse: {
      accessToken: 'access_token',
      refreshToken: 'refresh_token',
      expiresIn: 'expires_in',
    },
  };
}
