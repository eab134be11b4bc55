// A local HubSpot: OAuth, CRM v3 objects (contacts, companies, emails), search, properties, v4 associations,
// the X-HubSpot-RateLimit-* headers and 429s, and signed v3 webhooks, for @hubspot/api-client pointed at it with
// `new Client({ accessToken, basePath })`. Rate limits follow https://developers.hubspot.com/docs/api/usage-details;
// OAuth follows https://developers.hubspot.com/docs/api/oauth-quickstart-guide and …/oauth/tokens.
import { randomBytes, randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SandboxClock } from '../kit/clock';
import type { FaultResponse } from '../kit/fault-injector';
import {
  bearerToken,
  type IssuedTokens,
  type IssueTokensOptions,
  type OAuthErrorCode,
  type OAuthErrorReply,
  type TokenInfo,
} from '../kit/oauth-server';
import { RateLimiter, type RateLimitDecision, type RateLimiterOptions } from '../kit/rate-limiter';
import { SandboxServer, type SeedRequest } from '../kit/sandbox-server';
import type { WebhookDispatcherOptions, WebhookSubscription } from '../kit/webhook-dispatcher';
import { defaultAssociationType } from './associations';
import { errorBody, HubSpotApiError, HubSpotErrorBody, validationError } from './errors';
import { HubSpotObjectType, resolveObjectType } from './object-types';
import { HubSpotPortal, HubSpotRecord, PropertyInput, RecordChange } from './portal';
import type { BatchValidationMode, HubSpotRouteContext } from './route-context';
import { mergeRecords, registerMergeRoutes } from './merge';
import { registerAssociationRoutes } from './routes-associations';
import { registerObjectRoutes } from './routes-objects';
import { registerOAuthInfoRoutes } from './routes-oauth';
import { registerPropertyRoutes } from './routes-properties';
import { eventsForChange, HubSpotWebhookEvent, hubSpotWebhookSigner } from './webhooks';

/** HubSpot's per-10-second burst limit for a public (OAuth) app, per account. */
export const HUBSPOT_OAUTH_APP_LIMIT_PER_10S = 110;
/** The search endpoints' own limit: about five requests per second per account. */
export const HUBSPOT_SEARCH_LIMIT_PER_SECOND = 5;
export const HUBSPOT_ACCESS_TOKEN_TTL_SECONDS = 1800;
export const HUBSPOT_MAX_BATCH_INPUTS = 100;

export const HUBSPOT_TEN_SECONDLY_LIMIT_MESSAGE = 'You have reached your ten_secondly_rolling limit.';
export const HUBSPOT_SECONDLY_LIMIT_MESSAGE = 'You have reached your secondly limit.';
export const HUBSPOT_DAILY_LIMIT_MESSAGE = 'You have reached your daily limit.';

/** Scopes a connector typically asks for; granted when the authorize request names none. */
export const HUBSPOT_DEFAULT_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.schemas.contacts.read',
];

/** Webhook subscription types a subscription gets when it names none. */
export const HUBSPOT_DEFAULT_WEBHOOK_TYPES = [
  'contact.creation',
  'contact.propertyChange',
  'contact.deletion',
  'contact.merge',
  'company.creation',
  'company.propertyChange',
  'company.deletion',
  'company.merge',
];

/** HubSpot sends at most this many events in one webhook request. */
const WEBHOOK_EVENTS_PER_REQUEST = 100;

export interface HubSpotSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  /** App name on the consent page. */
  appName?: string;
  /** Registered redirect URIs; any is accepted when omitted. */
  redirectUris?: string[];
  /** The HubSpot account id (hub_id / portalId). */
  portalId?: number;
  appId?: number;
  accessTokenTtlSeconds?: number;
  /**
   * The per-10-second limit (default 110 per 10 s, counted but not enforced). `dailyLimit` adds the Daily headers,
   * which HubSpot itself sends only for private-app tokens.
   */
  rateLimit?: RateLimiterOptions;
  /** The search limit (default 5 per second, counted but not enforced). */
  searchRateLimit?: RateLimiterOptions;
  /** Per-record 207 errors (default) or the whole batch refused with a 400 when one record is invalid. */
  batchValidation?: BatchValidationMode;
  /** Refuse calls whose token lacks the scope (403 MISSING_SCOPES); off by default. */
  enforceScopes?: boolean;
  clock?: SandboxClock;
  seed?: number;
  webhooks?: Omit<WebhookDispatcherOptions, 'signer'>;
  host?: string;
}

export interface HubSpotSeedOptions {
  /** Every seeded record gets the same modification (and creation) time. */
  sameTimestamp?: boolean;
  /** The time to use (default: the sandbox clock's now). */
  at?: Date;
}

export interface HubSpotAuthorizeUrlOptions {
  redirectUri: string;
  scopes?: string[];
  optionalScopes?: string[];
  state?: string;
}

type AuthenticatedLocals = { token: TokenInfo };

function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  if (Number.isFinite(decision.limit)) {
    headers['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(decision.windowMs);
    headers['X-HubSpot-RateLimit-Max'] = String(decision.limit);
    headers['X-HubSpot-RateLimit-Remaining'] = String(decision.remaining);
  }
  if (Number.isFinite(decision.dailyLimit)) {
    headers['X-HubSpot-RateLimit-Daily'] = String(decision.dailyLimit);
    headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(decision.dailyRemaining);
  }
  return headers;
}

/** HubSpot's 429 body; `policyName` is what the SDK's retry decorator looks at. */
export function hubSpotRateLimitBody(
  policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY',
): HubSpotErrorBody {
  const message =
    policy === 'SECONDLY'
      ? HUBSPOT_SECONDLY_LIMIT_MESSAGE
      : policy === 'DAILY'
        ? HUBSPOT_DAILY_LIMIT_MESSAGE
        : HUBSPOT_TEN_SECONDLY_LIMIT_MESSAGE;
  return {
    status: 'error',
    message,
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: policy,
  };
}

/** HubSpot's token endpoint errors (`BAD_REFRESH_TOKEN` & co.), from the kit's RFC 6749 codes. */
function oauthErrorReply(code: OAuthErrorCode, description: string): OAuthErrorReply {
  let status = 'BAD_REQUEST';
  let message = description;
  if (code === 'invalid_grant' && description.includes('refresh token')) {
    status = 'BAD_REFRESH_TOKEN';
    message = 'missing or invalid refresh token';
  } else if (code === 'invalid_grant' && description.includes('redirect_uri')) {
    status = 'BAD_REDIRECT_URI';
    message = 'redirect_uri does not match initial auth code URI';
  } else if (code === 'invalid_grant') {
    status = 'BAD_AUTH_CODE';
    message = 'missing or unknown auth code';
  } else if (code === 'invalid_client') {
    status = 'BAD_CLIENT_ID';
    message = 'missing or invalid client id or client secret';
  } else if (code === 'unsupported_grant_type') {
    status = 'BAD_GRANT_TYPE';
  }
  return {
    status: 400,
    // `error`/`error_description` let generic OAuth clients recognise invalid_grant as well.
    body: { status, message, correlationId: randomUUID(), error: code, error_description: message },
  };
}

export class HubSpotSandbox extends SandboxServer {
  readonly portal: HubSpotPortal;
  readonly portalId: number;
  readonly appId: number;
  readonly searchRateLimiter: RateLimiter;
  readonly enforceScopes: boolean;
  private readonly pendingWebhookEvents = new Map<
    string,
    Array<Omit<HubSpotWebhookEvent, 'subscriptionId' | 'attemptNumber' | 'portalId' | 'appId'>>
  >();
  private webhookFlushScheduled = false;
  private nextEventId = 1;
  private nextSubscriptionId = 1;

  constructor(options: HubSpotSandboxOptions = {}) {
    const portalId = options.portalId ?? 24_681_357;
    const clientSecret = options.clientSecret ?? 'hubspot-sandbox-client-secret';
    super({
      name: 'hubspot',
      clock: options.clock,
      seed: options.seed,
      host: options.host,
      oauth: {
        clientId: options.clientId ?? 'hubspot-sandbox-client-id',
        clientSecret,
        crmName: 'HubSpot',
        ...(options.appName === undefined ? {} : { appName: options.appName }),
        accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? HUBSPOT_ACCESS_TOKEN_TTL_SECONDS,
        supportsPkce: true,
        authorizePath: '/oauth/authorize',
        tokenPath: '/oauth/v1/token',
        clientAuth: 'body',
        rotateRefreshTokens: false,
        redirectUris: options.redirectUris,
        defaultScopes: HUBSPOT_DEFAULT_SCOPES,
        accounts: [
          {
            id: String(portalId),
            name: `Sandbox portal ${portalId}`,
            userId: '7001',
            userName: 'Demo User',
            userEmail: 'demo.user@sandbox-portal.example',
          },
        ],
        // HubSpot access tokens are opaque strings of a few hundred characters; refresh tokens look like UUIDs.
        generateAccessToken: () => `C${randomBytes(96).toString('base64url')}`,
        generateRefreshToken: () => `na1-${randomUUID()}`,
        tokenResponse: (grant) => ({
          token_type: 'bearer',
          refresh_token: grant.refreshToken,
          access_token: grant.accessToken,
          expires_in: grant.expiresInSeconds,
        }),
        errorResponse: (code, description) => oauthErrorReply(code, description),
      },
      rateLimit: {
        limit: HUBSPOT_OAUTH_APP_LIMIT_PER_10S,
        windowMs: 10_000,
        enforce: false,
        ...options.rateLimit,
      },
      webhooks: { ...options.webhooks, signer: hubSpotWebhookSigner(clientSecret) },
      notFoundResponse: (req) => ({
        status: 404,
        body: errorBody('OBJECT_NOT_FOUND', `No route for ${req.method} ${req.path}`),
      }),
      errorResponse: (error) => HubSpotSandbox.errorReply(error),
      rateLimitResponse: (retryAfterSeconds, req) => this.stormReply(retryAfterSeconds, req),
    });
    this.portalId = portalId;
    this.appId = options.appId ?? 3_141_592;
    this.enforceScopes = options.enforceScopes ?? false;
    this.portal = new HubSpotPortal(this.clock, portalId);
    this.searchRateLimiter = new RateLimiter({
      limit: HUBSPOT_SEARCH_LIMIT_PER_SECOND,
      windowMs: 1000,
      enforce: false,
      ...options.searchRateLimit,
    });
    this.portal.onChange((change) => this.queueWebhookEvents(change));

    const context: HubSpotRouteContext = {
      server: this,
      portal: this.portal,
      faults: this.faults,
      authenticated: this.authenticate('standard'),
      authenticatedSearch: this.authenticate('search'),
      requireScope: (scope) => this.requireScope(scope),
      batchValidation: options.batchValidation ?? 'per-record',
      maxBatchInputs: HUBSPOT_MAX_BATCH_INPUTS,
    };
    registerOAuthInfoRoutes(context, {
      portalId,
      appId: this.appId,
      hubDomain: `sandbox-portal-${portalId}.hubspot.example`,
    });
    registerObjectRoutes(context);
    registerMergeRoutes(context);
    registerPropertyRoutes(context);
    registerAssociationRoutes(context);

    this.onReset(() => {
      this.portal.reset();
      this.searchRateLimiter.reset();
      this.pendingWebhookEvents.clear();
      this.nextEventId = 1;
    });
    this.onSeed((request) => this.seedFromControlApi(request));
    this.onPurge((request) => {
      const objectType = resolveObjectType(request.object ?? 'contacts');
      if (objectType === undefined) {
        throw validationError(`The hubspot sandbox has no object type ${String(request.object)}`);
      }
      return { purged: request.ids.filter((id) => this.portal.purge(objectType, id)) };
    });
  }

  // -----------------------------------------------------------------------------------------------------------
  // Staging helpers for tests, the benchmark and the demo

  /** The consent page URL, as an app builds it (the SDK's helper is hard-wired to app.hubspot.com). */
  authorizeUrl(options: HubSpotAuthorizeUrlOptions): string {
    const url = new URL(`${this.baseUrl}${this.oauth.config.authorizePath}`);
    url.searchParams.set('client_id', this.oauth.clientId);
    url.searchParams.set('redirect_uri', options.redirectUri);
    url.searchParams.set('scope', (options.scopes ?? HUBSPOT_DEFAULT_SCOPES).join(' '));
    if (options.optionalScopes?.length)
      url.searchParams.set('optional_scope', options.optionalScopes.join(' '));
    if (options.state !== undefined) url.searchParams.set('state', options.state);
    return url.toString();
  }

  /** Tokens as if the user had installed the app (skips the browser). */
  issueTokens(options: IssueTokensOptions = {}): IssuedTokens {
    return this.oauth.issueTokensDirectly(options);
  }

  /** Creates `count` demo contacts "in the CRM" (no API calls counted). */
  seedContacts(count: number, options: HubSpotSeedOptions = {}): HubSpotRecord[] {
    return this.seedMany('contacts', count, options, () => {
      const person = this.people.person();
      return {
        email: person.email,
        firstname: person.firstName,
        lastname: person.lastName,
        phone: person.phone,
        jobtitle: person.title,
        company: person.company.name,
        city: person.city,
        country: person.country,
        lifecyclestage: 'lead',
      };
    });
  }

  /** Creates `count` demo companies "in the CRM". */
  seedCompanies(count: number, options: HubSpotSeedOptions = {}): HubSpotRecord[] {
    return this.seedMany('companies', count, options, () => {
      const company = this.people.company();
      return { name: company.name, domain: company.domain, website: `https://${company.domain}` };
    });
  }

  /** Creates one record as a user would in HubSpot's UI (validated like an API write, not counted). */
  createInCrm(
    objectType: HubSpotObjectType,
    properties: PropertyInput,
    options: { at?: Date } = {},
  ): HubSpotRecord {
    const validated = this.portal.validateProperties(objectType, properties, 'create');
    return this.portal.create(objectType, validated, 'CRM_UI', options.at);
  }

  /** Edits a record "in the CRM" between sync runs; bumps its modification time. */
  editInCrm(
    objectType: HubSpotObjectType,
    id: string,
    fields: PropertyInput,
    options: { at?: Date } = {},
  ): HubSpotRecord {
    if (!this.portal.get(objectType, id)) throw new Error(`hubspot sandbox: no ${objectType} ${id}`);
    const validated = this.portal.validateProperties(objectType, fields, 'update');
    return this.portal.update(objectType, id, validated, 'CRM_UI', options.at);
  }

  /** Merges `mergedId` into `primaryId` "in the CRM", as a user would; one merge event follows. */
  mergeInCrm(objectType: HubSpotObjectType, primaryId: string, mergedId: string): HubSpotRecord {
    return mergeRecords(this.portal, objectType, primaryId, mergedId, 'CRM_UI', this.clock.now());
  }

  /** Deletes (archives) a record "in the CRM". */
  deleteInCrm(objectType: HubSpotObjectType, id: string): boolean {
    return this.portal.archive(objectType, id, 'CRM_UI');
  }

  /** Associates two existing records with the default (unlabeled) association type. */
  associateInCrm(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType, toId: string): void {
    const definition = defaultAssociationType(fromType, toType);
    if (!definition || !this.portal.get(fromType, fromId) || !this.portal.get(toType, toId)) {
      throw new Error(`hubspot sandbox: cannot associate ${fromType} ${fromId} with ${toType} ${toId}`);
    }
    this.portal.associations.add(fromType, fromId, toType, toId, definition.typeId);
  }

  records(objectType: HubSpotObjectType): HubSpotRecord[] {
    return this.portal.store(objectType).all();
  }

  record(objectType: HubSpotObjectType, id: string): HubSpotRecord | undefined {
    return this.portal.get(objectType, id);
  }

  archivedRecords(objectType: HubSpotObjectType): HubSpotRecord[] {
    return this.portal.archived(objectType);
  }

  /** Subscribes a URL to webhook events, as configuring the app's webhook settings does. */
  subscribeWebhooks(
    url: string,
    subscriptionTypes: string[] = HUBSPOT_DEFAULT_WEBHOOK_TYPES,
  ): WebhookSubscription {
    return this.webhooks.subscribe({
      url,
      events: subscriptionTypes,
      secret: this.oauth.clientSecret,
      meta: { subscriptionId: this.nextSubscriptionId++, portalId: this.portalId, appId: this.appId },
    });
  }

  /** Sends the webhook events queued so far now instead of on the next tick; resolves when delivered. */
  async flushWebhooks(): Promise<void> {
    this.flushWebhookEvents();
    await this.webhooks.idle();
  }

  // -----------------------------------------------------------------------------------------------------------

  private seedMany(
    objectType: HubSpotObjectType,
    count: number,
    options: HubSpotSeedOptions,
    makeProperties: () => Record<string, string>,
  ): HubSpotRecord[] {
    const nowMs = (options.at ?? this.clock.now()).getTime();
    const created: HubSpotRecord[] = [];
    for (let index = 0; index < count; index++) {
      // Distinct, increasing times ending at "now" unless every record must share one.
      const at = new Date(options.sameTimestamp ? nowMs : nowMs - (count - 1 - index));
      created.push(this.portal.create(objectType, makeProperties(), 'IMPORT', at));
    }
    return created;
  }

  private seedFromControlApi(request: SeedRequest): {
    object: HubSpotObjectType;
    created: number;
    ids: string[];
  } {
    const objectType = resolveObjectType(request.object ?? 'contacts');
    if (objectType !== 'contacts' && objectType !== 'companies') {
      throw validationError(`The hubspot sandbox seeds contacts or companies, not ${String(request.object)}`);
    }
    const options: HubSpotSeedOptions = { sameTimestamp: request.sameTimestamp };
    const records =
      objectType === 'contacts'
        ? this.seedContacts(request.count, options)
        : this.seedCompanies(request.count, options);
    return { object: objectType, created: records.length, ids: records.map((record) => record.id) };
  }

  private authenticate(kind: 'standard' | 'search'): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const token = this.checkBearer(req);
      (res.locals as AuthenticatedLocals).token = token;
      const limiter = kind === 'search' ? this.searchRateLimiter : this.rateLimiter;
      const decision = limiter.take(token.account.id);
      // The search endpoints do not send the X-HubSpot-RateLimit headers.
      const headers = kind === 'standard' ? rateLimitHeaders(decision) : {};
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (!decision.allowed) {
        const policy =
          decision.reason === 'daily' ? 'DAILY' : kind === 'search' ? 'SECONDLY' : 'TEN_SECONDLY_ROLLING';
        throw new HubSpotApiError(429, hubSpotRateLimitBody(policy));
      }
      next();
    };
  }

  private checkBearer(req: Request): TokenInfo {
    const bearer = bearerToken(req);
    const result = this.oauth.authenticate(bearer);
    if (result === 'expired') {
      const info = bearer ? this.oauth.lookupAccessToken(bearer) : undefined;
      const agoSeconds = info
        ? Math.max(0, Math.round((this.clock.nowMs() - info.expiresAt.getTime()) / 1000))
        : 0;
      throw new HubSpotApiError(
        401,
        errorBody(
          'EXPIRED_AUTHENTICATION',
          `The OAuth token used to make this call expired ${agoSeconds} second(s) ago.`,
        ),
      );
    }
    if (result === 'invalid') {
      throw new HubSpotApiError(
        401,
        errorBody(
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
        ),
      );
    }
    return result;
  }

  private requireScope(scope: string | ((req: Request) => string)): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (!this.enforceScopes) return next();
      const required = typeof scope === 'string' ? scope : scope(req);
      const token = (res.locals as Partial<AuthenticatedLocals>).token;
      if (token?.scopes.includes(required)) return next();
      throw new HubSpotApiError(
        403,
        errorBody(
          'MISSING_SCOPES',
          "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
          {
            errors: [
              {
                message: 'One or more of the following scopes are required.',
                context: { requiredGranularScopes: [required] },
              },
            ],
            links: { scopes: 'https://developers.hubspot.com/scopes' },
          },
        ),
      );
    };
  }

  /** A 429 storm from the fault injector, in HubSpot's body; the kit adds Retry-After. */
  private stormReply(retryAfterSeconds: number, req: Request): FaultResponse {
    const isSearch = req.path.endsWith('/search');
    const headers: Record<string, string> = { 'Retry-After': String(retryAfterSeconds) };
    if (!isSearch) {
      const config = this.rateLimiter.config;
      headers['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(config.windowMs ?? 10_000);
      headers['X-HubSpot-RateLimit-Max'] = String(config.limit ?? HUBSPOT_OAUTH_APP_LIMIT_PER_10S);
      headers['X-HubSpot-RateLimit-Remaining'] = '0';
    }
    return {
      status: 429,
      body: hubSpotRateLimitBody(isSearch ? 'SECONDLY' : 'TEN_SECONDLY_ROLLING'),
      headers,
    };
  }

  private static errorReply(error: unknown): FaultResponse {
    if (error instanceof HubSpotApiError) {
      return { status: error.httpStatus, body: error.body, headers: error.headers };
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Body-parser failures: malformed JSON, payload too large.
      const message = error instanceof Error ? error.message : String(error);
      return { status, body: errorBody('VALIDATION_ERROR', `Invalid input JSON: ${message}`) };
    }
    return { status: 500, body: errorBody('INTERNAL_ERROR', 'internal error') };
  }

  private queueWebhookEvents(change: RecordChange): void {
    if (this.webhooks.subscriptions().length === 0) return;
    for (const { subscriptionType, event } of eventsForChange(change, () => this.nextEventId++)) {
      const queue = this.pendingWebhookEvents.get(subscriptionType) ?? [];
      queue.push(event);
      this.pendingWebhookEvents.set(subscriptionType, queue);
    }
    if (!this.webhookFlushScheduled) {
      this.webhookFlushScheduled = true;
      // Events of one tick go out together, up to 100 per request, like HubSpot's batched deliveries.
      setImmediate(() => this.flushWebhookEvents());
    }
  }

  private flushWebhookEvents(): void {
    this.webhookFlushScheduled = false;
    const pending = [...this.pendingWebhookEvents];
    this.pendingWebhookEvents.clear();
    for (const [subscriptionType, events] of pending) {
      for (let start = 0; start < events.length; start += WEBHOOK_EVENTS_PER_REQUEST) {
        const chunk = events.slice(start, start + WEBHOOK_EVENTS_PER_REQUEST);
        void this.webhooks.emit({
          type: subscriptionType,
          payload: (subscription, attempt) =>
            chunk.map((event) => ({
              ...event,
              subscriptionId: Number(subscription.meta?.subscriptionId ?? 0),
              portalId: this.portalId,
              appId: this.appId,
              attemptNumber: attempt - 1,
            })),
        });
      }
    }
  }
}

export function createHubSpotSandbox(options: HubSpotSandboxOptions = {}): HubSpotSandbox {
  return new HubSpotSandbox(options);
}
