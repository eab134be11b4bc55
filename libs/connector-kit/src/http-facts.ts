import type { CrmSession, ProviderId, TokenSet } from '@pm/integration-port';
import { checkApiHost } from './api-hosts';
import type { RateLimitState } from './rate-budget';

/**
 * A CRM's HTTP facts as data (as Nango keeps them per provider): where its API lives, how it pages, which headers
 * carry its rate limits and which fields its token endpoint returns. The shared helpers read these facts; a connector
 * declares them instead of re-implementing the parsing.
 */
export interface HttpFacts {
  provider: ProviderId;
  /** The API base; `{instanceUrl}` is replaced by the session's instance URL (Salesforce, Pipedrive). */
  baseUrl: string;
  pagination: PaginationFacts;
  rateLimitHeaders: RateLimitHeaderFacts;
  tokenResponse: TokenResponseFacts;
  /**
   * The CRM's own API hosts, where an account's API base (`tokenResponse.instanceUrl`) may point: host patterns
   * such as `*.my.salesforce.com` (https only). See api-hosts.ts.
   */
  allowedApiHosts?: readonly string[];
}

export type PaginationStyle = 'cursor' | 'link' | 'offset' | 'none';

export interface PaginationFacts {
  /** cursor: a token from the body goes back as a parameter; link: the body holds the next URL; offset: skip/limit. */
  style: PaginationStyle;
  /** The request parameter for the token or offset ('after', 'cursor', 'page_token', '_skip'). */
  cursorParam?: string;
  /** The page-size parameter ('limit', 'per_page', '_limit'). */
  limitParam?: string;
  /** Dotted path to the next token or next URL in the body ('paging.next.after', 'additional_data.next_cursor'). */
  nextPath?: string;
  /** Dotted path to the page's items ('results', 'data', 'records'). */
  itemsPath: string;
  maxPageSize: number;
}

export interface RateLimitHeaderFacts {
  windowLimit?: string;
  windowRemaining?: string;
  /** When the window resets, and how the header counts it. */
  windowReset?: { header: string; unit: 'seconds' | 'milliseconds' | 'epoch-seconds' };
  /** The window's length in milliseconds (HubSpot `X-HubSpot-RateLimit-Interval-Milliseconds`). */
  windowIntervalMs?: string;
  dailyLimit?: string;
  dailyRemaining?: string;
  /** A header carrying daily usage as `key=used/limit` (Salesforce `Sforce-Limit-Info: api-usage=18/5000`). */
  dailyUsage?: { header: string; key: string };
  /** A structured `limit=…, remaining=…, reset=…` header (Close `RateLimit`); reset in seconds. */
  structuredWindow?: string;
  /** Seconds or an HTTP date. Default `retry-after`. */
  retryAfter?: string;
}

/** Field names of the token endpoint's JSON answer. */
export interface TokenResponseFacts {
  accessToken: string;
  refreshToken?: string;
  /** Seconds until the access token expires (`expires_in`). */
  expiresIn?: string;
  scope?: string;
  /** The account's API base (Salesforce `instance_url`, Pipedrive `api_domain`). */
  instanceUrl?: string;
}

/** Header maps as Node (`IncomingHttpHeaders`) and fetch (`Headers`) give them. */
export type HeaderSource = Headers | Record<string, string | string[] | number | undefined>;

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(
    headers as Record<string, string | string[] | number | undefined>,
  )) {
    if (key.toLowerCase() === wanted && value !== undefined) {
      return Array.isArray(value) ? value[0] : String(value);
    }
  }
  return undefined;
}

function numberHeader(headers: HeaderSource, name: string | undefined): number | undefined {
  if (name === undefined) {
    return undefined;
  }
  const raw = headerValue(headers, name)?.trim();
  if (raw === undefined || raw === '') {
    return undefined;
  }
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') {
    return undefined;
  }
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    return Math.round(Number(trimmed) * 1000);
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Reads what a response's headers say about the CRM's limits, using the connector's header facts. */
export function parseRateLimitHeaders(
  facts: Pick<HttpFacts, 'rateLimitHeaders'>,
  headers: HeaderSource,
  nowMs: number = Date.now(),
): RateLimitState {
  const names = facts.rateLimitHeaders;
  const state: RateLimitState = {
    windowLimit: numberHeader(headers, names.windowLimit),
    windowRemaining: numberHeader(headers, names.windowRemaining),
    windowMs: numberHeader(headers, names.windowIntervalMs),
    dailyLimit: numberHeader(headers, names.dailyLimit),
    dailyRemaining: numberHeader(headers, names.dailyRemaining),
    retryAfterMs: parseRetryAfter(headerValue(headers, names.retryAfter ?? 'retry-after'), nowMs),
  };
  if (names.windowReset) {
    const reset = numberHeader(headers, names.windowReset.header);
    if (reset !== undefined) {
      state.windowResetMs =
        names.windowReset.unit === 'seconds'
          ? reset * 1000
          : names.windowReset.unit === 'milliseconds'
            ? reset
            : Math.max(0, reset * 1000 - nowMs);
    }
  }
  if (names.dailyUsage) {
    const raw = headerValue(headers, names.dailyUsage.header);
    const key = names.dailyUsage.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = raw === undefined ? null : new RegExp(`(?:^|[\\s,;])${key}=(\\d+)/(\\d+)`).exec(raw);
    if (match) {
      const used = Number(match[1]);
      const limit = Number(match[2]);
      state.dailyLimit = limit;
      state.dailyRemaining = Math.max(0, limit - used);
    }
  }
  if (names.structuredWindow) {
    const raw = headerValue(headers, names.structuredWindow);
    if (raw !== undefined) {
      const parts = new Map(
        raw.split(/[,;]/).map((part) => {
          const [key, value] = part.split('=').map((piece) => piece.trim());
          return [key.toLowerCase(), Number(value)] as const;
        }),
      );
      const limit = parts.get('limit');
      const remaining = parts.get('remaining');
      const reset = parts.get('reset');
      if (limit !== undefined && Number.isFinite(limit)) state.windowLimit = limit;
      if (remaining !== undefined && Number.isFinite(remaining)) state.windowRemaining = remaining;
      if (reset !== undefined && Number.isFinite(reset)) state.windowResetMs = reset * 1000;
    }
  }
  for (const key of Object.keys(state) as (keyof RateLimitState)[]) {
    if (state[key] === undefined) {
      delete state[key];
    }
  }
  return state;
}

/** A value at a dotted path of a JSON body ('paging.next.after'); undefined when any step is missing. */
export function valueAtPath(body: unknown, path: string): unknown {
  let current: unknown = body;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** The next page's token (cursor style) or URL (link style) from a page's body; undefined on the last page. */
export function nextPageTokenFrom(pagination: PaginationFacts, body: unknown): string | undefined {
  if (pagination.style === 'none' || pagination.nextPath === undefined) {
    return undefined;
  }
  const value = valueAtPath(body, pagination.nextPath);
  if (value === null || value === undefined || value === '' || value === false) {
    return undefined;
  }
  return String(value);
}

/** A page's items from its body, using the connector's `itemsPath`. */
export function pageItemsFrom(pagination: PaginationFacts, body: unknown): unknown[] {
  const items = valueAtPath(body, pagination.itemsPath);
  return Array.isArray(items) ? items : [];
}

/** The API base for a session: `{instanceUrl}` replaced by the account's instance URL. */
export function resolveBaseUrl(
  facts: Pick<HttpFacts, 'baseUrl' | 'provider'>,
  session?: Pick<CrmSession, 'instanceUrl'>,
): string {
  if (!facts.baseUrl.includes('{instanceUrl}')) {
    return facts.baseUrl;
  }
  if (!session?.instanceUrl) {
    throw new Error(`${facts.provider}: the session has no instanceUrl, which the API base needs`);
  }
  return facts.baseUrl.replace('{instanceUrl}', session.instanceUrl.replace(/\/+$/, ''));
}

/**
 * The token fields of a token endpoint's answer, read with the connector's field names. An API base the answer
 * names must be on `allowedApiHosts` (the connector's resolved list, else its facts' defaults): a token response
 * never decides on its own where the token goes.
 */
export function readTokenResponse(
  facts: Pick<HttpFacts, 'tokenResponse' | 'provider' | 'allowedApiHosts'>,
  body: Record<string, unknown>,
  nowMs: number = Date.now(),
  allowedApiHosts: readonly string[] | undefined = facts.allowedApiHosts,
): Omit<TokenSet, 'account'> {
  const fields = facts.tokenResponse;
  const accessToken = body[fields.accessToken];
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new Error(`The token response has no "${fields.accessToken}"`);
  }
  const text = (name: string | undefined): string | undefined => {
    const value = name === undefined ? undefined : body[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const expiresIn = fields.expiresIn === undefined ? undefined : Number(body[fields.expiresIn]);
  const tokens: Omit<TokenSet, 'account'> = { accessToken };
  const refreshToken = text(fields.refreshToken);
  const scope = text(fields.scope);
  const instanceUrl = text(fields.instanceUrl);
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (scope !== undefined) tokens.scope = scope;
  if (instanceUrl !== undefined) {
    tokens.instanceUrl =
      allowedApiHosts === undefined
        ? instanceUrl
        : checkApiHost(facts.provider, instanceUrl, allowedApiHosts);
  }
  if (expiresIn !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {
    tokens.expiresAt = new Date(nowMs + expiresIn * 1000);
  }
  return tokens;
}
