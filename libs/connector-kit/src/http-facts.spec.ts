import {
  nextPageTokenFrom,
  pageItemsFrom,
  parseRateLimitHeaders,
  parseRetryAfter,
  readTokenResponse,
  resolveBaseUrl,
  type HttpFacts,
} from './http-facts';

/** Facts as a HubSpot-like and a Salesforce-like connector would declare them (header names per the notes). */
const hubspotLike: HttpFacts = {
  provider: 'hubspot',
  baseUrl: 'https://api.hubapi.com',
  pagination: {
    style: 'cursor',
    cursorParam: 'after',
    limitParam: 'limit',
    nextPath: 'paging.next.after',
    itemsPath: 'results',
    maxPageSize: 100,
  },
  rateLimitHeaders: {
    windowLimit: 'X-HubSpot-RateLimit-Max',
    windowRemaining: 'X-HubSpot-RateLimit-Remaining',
    windowIntervalMs: 'X-HubSpot-RateLimit-Interval-Milliseconds',
    dailyLimit: 'X-HubSpot-RateLimit-Daily',
    dailyRemaining: 'X-HubSpot-RateLimit-Daily-Remaining',
  },
  tokenResponse: { accessToken: 'access_token', refreshToken: 'refresh_token', expiresIn: 'expires_in' },
};

const salesforceLike: HttpFacts = {
  provider: 'salesforce',
  baseUrl: '{instanceUrl}/services/data/v62.0',
  pagination: { style: 'link', nextPath: 'nextRecordsUrl', itemsPath: 'records', maxPageSize: 2000 },
  rateLimitHeaders: { dailyUsage: { header: 'Sforce-Limit-Info', key: 'api-usage' } },
  tokenResponse: {
    accessToken: 'access_token',
    refreshToken: 'refresh_token',
    scope: 'scope',
    instanceUrl: 'instance_url',
  },
};

const now = Date.UTC(2026, 0, 15, 12, 0, 0);

describe('parseRateLimitHeaders', () => {
  it('reads window and daily limits from the header names in the facts, whatever their case', () => {
    const state = parseRateLimitHeaders(
      hubspotLike,
      {
        'x-hubspot-ratelimit-max': '190',
        'x-hubspot-ratelimit-remaining': '12',
        'x-hubspot-ratelimit-interval-milliseconds': '10000',
        'x-hubspot-ratelimit-daily': '1000000',
        'x-hubspot-ratelimit-daily-remaining': '999000',
      },
      now,
    );
    expect(state).toEqual({
      windowLimit: 190,
      windowRemaining: 12,
      windowMs: 10_000,
      dailyLimit: 1_000_000,
      dailyRemaining: 999_000,
    });
  });

  it('reads daily usage from a used/limit header (Salesforce Sforce-Limit-Info)', () => {
    expect(
      parseRateLimitHeaders(salesforceLike, new Headers({ 'Sforce-Limit-Info': 'api-usage=18/5000' }), now),
    ).toEqual({
      dailyLimit: 5000,
      dailyRemaining: 4982,
    });
  });

  it('reads Retry-After as seconds or as an HTTP date, and reset headers in their declared unit', () => {
    const pipedriveLike = {
      rateLimitHeaders: {
        windowLimit: 'x-ratelimit-limit',
        windowRemaining: 'x-ratelimit-remaining',
        windowReset: { header: 'x-ratelimit-reset', unit: 'seconds' as const },
      },
    };
    expect(
      parseRateLimitHeaders(
        pipedriveLike,
        {
          'x-ratelimit-limit': '80',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '2',
          'Retry-After': '3',
        },
        now,
      ),
    ).toEqual({ windowLimit: 80, windowRemaining: 0, windowResetMs: 2_000, retryAfterMs: 3_000 });
    expect(parseRetryAfter('Thu, 15 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(
      parseRateLimitHeaders(
        { rateLimitHeaders: { structuredWindow: 'RateLimit' } },
        { ratelimit: 'limit=60, remaining=7, reset=4' },
        now,
      ),
    ).toEqual({ windowLimit: 60, windowRemaining: 7, windowResetMs: 4_000 });
  });

  it('returns nothing for headers that are absent or not numbers', () => {
    expect(parseRateLimitHeaders(hubspotLike, { 'x-hubspot-ratelimit-remaining': 'n/a' }, now)).toEqual({});
  });
});

describe('pagination facts', () => {
  it('finds the items and the next token at the declared paths, and no token on the last page', () => {
    const page = { results: [{ id: '1' }], paging: { next: { after: '2', link: 'https://…' } } };
    expect(pageItemsFrom(hubspotLike.pagination, page)).toEqual([{ id: '1' }]);
    expect(nextPageTokenFrom(hubspotLike.pagination, page)).toBe('2');
    expect(nextPageTokenFrom(hubspotLike.pagination, { results: [] })).toBeUndefined();
    expect(
      nextPageTokenFrom(salesforceLike.pagination, { records: [], nextRecordsUrl: null, done: true }),
    ).toBeUndefined();
  });
});

describe('token response facts', () => {
  it('reads tokens with the CRM field names and turns expires_in into an expiry time', () => {
    expect(
      readTokenResponse(
        hubspotLike,
        { access_token: 'a', refresh_token: 'r', expires_in: 1800, token_type: 'bearer' },
        now,
      ),
    ).toEqual({ accessToken: 'a', refreshToken: 'r', expiresAt: new Date(now + 1_800_000) });
    expect(
      readTokenResponse(
        salesforceLike,
        { access_token: 'a', instance_url: 'https://eu1.my.salesforce.com', scope: 'api refresh_token' },
        now,
      ),
    ).toEqual({ accessToken: 'a', instanceUrl: 'https://eu1.my.salesforce.com', scope: 'api refresh_token' });
    expect(() => readTokenResponse(hubspotLike, { error: 'invalid_grant' })).toThrow('no "access_token"');
  });

  it('builds the API base from the session instance URL where the CRM has one per account', () => {
    expect(resolveBaseUrl(salesforceLike, { instanceUrl: 'https://eu1.my.salesforce.com/' })).toBe(
      'https://eu1.my.salesforce.com/services/data/v62.0',
    );
    expect(() => resolveBaseUrl(salesforceLike, {})).toThrow('no instanceUrl');
    expect(resolveBaseUrl(hubspotLike)).toBe('https://api.hubapi.com');
  });
});
