// A local Salesforce: OAuth 2.0 web server flow on the "login" host and the REST API on the "instance" host (both
// are this server). Each route names the Salesforce reference page it follows (REST API Developer Guide unless
// said otherwise). Routes are thin: the data semantics live in org.ts, SOQL in soql.ts, metadata in schema.ts.

import { createHmac } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SandboxClock } from '../kit/clock';
import type { FaultResponse } from '../kit/fault-injector';
import type { OAuthErrorCode, OAuthErrorReply, TokenGrant, TokenInfo } from '../kit/oauth-server';
import { bearerToken } from '../kit/oauth-server';
import { SandboxServer, type SeedRequest } from '../kit/sandbox-server';
import {
  DEFAULT_QUERY_PAGE_SIZE,
  MAX_COLLECTION_RECORDS,
  MIN_QUERY_PAGE_SIZE,
  SalesforceApiError,
  SalesforceOrg,
  type DmlError,
  type SalesforceRecord,
  type SaveResult,
} from './org';
import {
  CustomFieldSpec,
  DEFAULT_CUSTOM_FIELDS,
  describeGlobalEntry,
  describeObject,
  SalesforceObjectName,
  SalesforceSchema,
} from './schema';
import { formatDateTime, parseDateTime, SoqlError } from './soql';
import { ChangeEventBus } from './change-events';
import { StreamingEndpoint } from './streaming';
import { mountStreamingControl } from './streaming-control';

export interface SalesforceSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  /** Registered callback URLs of the connected app; any is accepted when omitted. */
  redirectUris?: string[];
  /** Session lifetime (Salesforce's default session timeout is 2 hours). */
  accessTokenTtlSeconds?: number;
  /** Issue a new refresh token on every refresh ("refresh token rotation" in the connected app); off by default. */
  rotateRefreshTokens?: boolean;
  /** Daily API request allocation shown in `Sforce-Limit-Info` (default 15,000, a Developer Edition org). */
  dailyApiLimit?: number;
  /** Refuse calls with 403 REQUEST_LIMIT_EXCEEDED once the allocation is used (default false: only counted). */
  enforceApiLimit?: boolean;
  /** Custom fields per object; replaces the defaults (an external id `PenguinMails_Id__c` on Contact and Lead). */
  customFields?: Partial<Record<SalesforceObjectName, CustomFieldSpec[]>>;
  clock?: SandboxClock;
  seed?: number;
  orgName?: string;
  /** Demo records created at construction (for `npm run sandbox`); none by default. */
  demoData?: { contacts?: number; leads?: number };
}

export interface SeedOptions {
  /** Give every record the same CreatedDate/LastModifiedDate/SystemModstamp (the sandbox clock's now). */
  sameTimestamp?: boolean;
  /** Use this instant for all of them instead. */
  timestamp?: Date;
  /** Extra fields for every record (e.g. an AccountId). */
  fields?: Record<string, unknown>;
}

/** Oldest and newest API versions this sandbox serves (v20.0 = Winter '11; v66.0 = Spring '26). */
const MIN_VERSION = 20;
const MAX_VERSION = 66;
const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const SESSION_EXPIRED = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
const NOT_FOUND = [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }];
/** Replication feeds reach back this far (Get Updated/Deleted: "startDate cannot be more than 30 days ago"). */
const REPLICATION_WINDOW_MS = 30 * 86_400_000;

/** Salesforce sends JSON as `application/json;charset=UTF-8` (no space); jsforce parses JSON only by content type. */
function sendJson(res: Response, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.status(status);
  res.setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.setHeader('Content-Length', String(payload.length));
  res.end(payload);
}

function releaseLabel(version: number): string {
  const offset = version - 59; // v59.0 is Winter '24
  const season = ['Winter', 'Spring', 'Summer'][((offset % 3) + 3) % 3];
  return `${season} '${24 + Math.floor(offset / 3)}`;
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string'
    ? value
    : Array.isArray(value) && typeof value[0] === 'string'
      ? value[0]
      : undefined;
}

/** Express 5 route params are strings for named segments. */
function routeParam(req: Request, name: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** Per-request data the auth middleware attaches. */
interface ApiContext {
  version: string;
  token: TokenInfo;
}

function context(res: Response): ApiContext {
  return res.locals.salesforce as ApiContext;
}

function toErrorBody(errors: DmlError[]): Array<Record<string, unknown>> {
  return errors.map((error) => ({
    message: error.message,
    errorCode: error.statusCode,
    fields: error.fields,
  }));
}

export class SalesforceSandbox extends SandboxServer {
  readonly org: SalesforceOrg;
  readonly schema: SalesforceSchema;
  /** Change Data Capture: every committed change, retained 72 h, served over CometD at /cometd/{version}. */
  readonly changeEvents: ChangeEventBus;
  readonly streaming: StreamingEndpoint;

  constructor(options: SalesforceSandboxOptions = {}) {
    const clock = options.clock ?? new SandboxClock();
    const schema = new SalesforceSchema(options.customFields ?? DEFAULT_CUSTOM_FIELDS);
    const org = new SalesforceOrg({ clock, schema, orgName: options.orgName });
    const clientId = options.clientId ?? '3MVG9sandbox.PenguinMails.ConsumerKey';
    const clientSecret = options.clientSecret ?? 'sandbox-consumer-secret';
    // The token hook needs the base URL, known only once the server listens.
    const self: { sandbox?: SalesforceSandbox } = {};
    super({
      name: 'salesforce',
      clock,
      seed: options.seed,
      oauth: {
        clientId,
        clientSecret,
        crmName: 'Salesforce',
        accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
        supportsPkce: true,
        // "OAuth 2.0 Web Server Flow for Web App Integration" (Salesforce Help): authorize and token here; the
        // revoke route is registered below because Salesforce answers 400 invalid_token for a dead token.
        authorizePath: '/services/oauth2/authorize',
        tokenPath: '/services/oauth2/token',
        clientAuth: 'both',
        rotateRefreshTokens: options.rotateRefreshTokens ?? false,
        redirectUris: options.redirectUris,
        defaultScopes: ['api', 'refresh_token'],
        accounts: [
          {
            id: org.orgId,
            name: org.orgName,
            userId: org.userId,
            userName: org.user.username,
            userEmail: org.user.email,
          },
        ],
        // Salesforce access tokens are "{15-char org id}!{session}".
        generateAccessToken: () =>
          `${org.orgId.slice(0, 15)}!AQ${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
        generateRefreshToken: () =>
          `5Aep861${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
        tokenResponse: (grant) => (self.sandbox as SalesforceSandbox).tokenBody(grant),
        errorResponse: (code, description) => SalesforceSandbox.tokenError(code, description),
      },
      rateLimit: {
        dailyLimit: options.dailyApiLimit ?? 15_000,
        enforce: options.enforceApiLimit ?? false,
      },
      notFoundResponse: () => ({
        status: 404,
        body: NOT_FOUND,
        headers: { 'content-type': JSON_CONTENT_TYPE },
      }),
      errorResponse: (error) => SalesforceSandbox.errorReply(error),
      // Injected 429 storms: Salesforce's error array with REQUEST_LIMIT_EXCEEDED and Retry-After.
      rateLimitResponse: (retryAfterSeconds) => ({
        status: 429,
        body: [
          {
            message: 'Too many requests. Retry after the time in the Retry-After header.',
            errorCode: 'REQUEST_LIMIT_EXCEEDED',
          },
        ],
        headers: { 'retry-after': String(retryAfterSeconds), 'content-type': JSON_CONTENT_TYPE },
      }),
    });
    self.sandbox = this;
    this.org = org;
    this.schema = schema;
    this.org.recordFault = (objectName, input) => {
      const fault = this.faults.recordError(objectName, input);
      return (
        fault && {
          statusCode: fault.code ?? 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          message: fault.message,
          fields: fault.field ? [fault.field] : [],
        }
      );
    };
    // jsforce's PKCE (`useVerifier`) sends code_challenge without code_challenge_method: Salesforce only knows
    // S256, while RFC 7636 (and the kit) read a missing method as "plain". A query parser is the one hook that
    // runs before the kit's authorize handler.
    this.app.set('query parser', (text: string) => {
      const parsed: Record<string, string | string[]> = {};
      for (const [key, value] of new URLSearchParams(text)) {
        const previous = parsed[key];
        parsed[key] =
          previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
      }
      if (typeof parsed.code_challenge === 'string' && parsed.code_challenge_method === undefined) {
        parsed.code_challenge_method = 'S256';
      }
      return parsed;
    });
    this.changeEvents = new ChangeEventBus(this.clock, this.random);
    this.streaming = new StreamingEndpoint(this.changeEvents, this.oauth, this.clock, (entity) =>
      Boolean(this.org.object(entity)),
    );
    this.org.onRecordChange = (change) => void this.changeEvents.publishChange(change);
    mountStreamingControl(this.controlExtensions, this.changeEvents, this.streaming);
    this.onReset(() => this.org.reset());
    this.onReset(() => {
      this.changeEvents.reset();
      this.streaming.forgetClients();
    });
    this.onSeed((request) => this.handleSeed(request));
    // Ids name their object (key prefix), so a purge needs no object type.
    this.onPurge((request) => ({ purged: request.ids.filter((id) => this.org.purge(id)) }));
    this.registerRoutes();
    const demo = options.demoData;
    if (demo?.contacts) this.seedContacts(demo.contacts);
    if (demo?.leads) this.seedLeads(demo.leads);
  }

  /** jsforce's `loginUrl` (authorize/token/revoke and the identity URL live here). */
  get loginUrl(): string {
    return this.baseUrl;
  }

  /** The `instance_url` tokens carry; the REST API lives here. */
  get instanceUrl(): string {
    return this.baseUrl;
  }

  get identityUrl(): string {
    return `${this.baseUrl}/id/${this.org.orgId}/${this.org.userId}`;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Staging helpers for tests

  seedContacts(count: number, options: SeedOptions = {}): SalesforceRecord[] {
    return this.seed_('Contact', count, options);
  }

  seedLeads(count: number, options: SeedOptions = {}): SalesforceRecord[] {
    return this.seed_('Lead', count, options);
  }

  seedAccounts(count: number, options: SeedOptions = {}): SalesforceRecord[] {
    const rows = Array.from({ length: count }, () => {
      const company = this.people.company();
      return { Name: company.name, Website: `https://${company.domain}`, ...options.fields };
    });
    return this.org.stage('Account', rows, this.seedTimestamp(options));
  }

  private seed_(objectName: 'Contact' | 'Lead', count: number, options: SeedOptions): SalesforceRecord[] {
    const rows = this.org
      .fakeRows(objectName, count, this.people)
      .map((row) => ({ ...row, ...options.fields }));
    return this.org.stage(objectName, rows, this.seedTimestamp(options));
  }

  private seedTimestamp(options: SeedOptions): Date | undefined {
    return options.timestamp ?? (options.sameTimestamp ? this.clock.now() : undefined);
  }

  /** Inserts records with exactly these fields (no API call, no validation beyond field names). */
  stageRecords(
    objectName: SalesforceObjectName,
    rows: Array<Record<string, unknown>>,
    options: SeedOptions = {},
  ) {
    return this.org.stage(objectName, rows, this.seedTimestamp(options));
  }

  /** A user edits the record in Salesforce: fields change and SystemModstamp moves to the clock's now. */
  editInCrm(objectName: SalesforceObjectName, id: string, fields: Record<string, unknown>): SalesforceRecord {
    return this.org.editInCrm(objectName, id, fields);
  }

  deleteInCrm(objectName: SalesforceObjectName, id: string): void {
    this.org.deleteInCrm(objectName, id);
  }

  /** Live records of an object, in creation order. */
  records(objectName: SalesforceObjectName): SalesforceRecord[] {
    return this.org.records(objectName);
  }

  private handleSeed(request: SeedRequest): unknown {
    const objectName = (request.object ?? 'Contact') as SalesforceObjectName;
    const options: SeedOptions = { sameTimestamp: request.sameTimestamp };
    const created =
      objectName === 'Lead'
        ? this.seedLeads(request.count, options)
        : objectName === 'Account'
          ? this.seedAccounts(request.count, options)
          : this.seedContacts(request.count, options);
    return {
      object: objectName,
      created: created.length,
      ids: created.slice(0, 20).map((record) => record.id),
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // OAuth hooks

  /** Token endpoint body ("OAuth 2.0 Web Server Flow": access_token, refresh_token, signature, ..., issued_at). */
  private tokenBody(grant: TokenGrant): object {
    const base = this.started ? this.baseUrl : 'http://127.0.0.1';
    const id = `${base}/id/${grant.account.id}/${grant.account.userId}`;
    const issuedAt = String(grant.issuedAt.getTime());
    // Documented: HMAC-SHA256 of the identity URL concatenated with issued_at, keyed by the consumer secret.
    const signature = createHmac('sha256', this.oauth.clientSecret)
      .update(id + issuedAt)
      .digest('base64');
    return {
      access_token: grant.accessToken,
      ...(grant.refreshTokenIssued ? { refresh_token: grant.refreshToken } : {}),
      signature,
      scope: grant.scopes.join(' '),
      instance_url: base,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
  }

  private static tokenError(code: OAuthErrorCode, description: string): OAuthErrorReply {
    let text = description;
    if (code === 'invalid_grant') {
      if (/refresh/i.test(description)) text = 'expired access/refresh token';
      else if (/verifier/i.test(description)) text = 'invalid code verifier';
      else if (/redirect/i.test(description)) text = 'redirect_uri must match configuration';
      else text = 'invalid authorization code';
    } else if (code === 'invalid_client') {
      text = 'invalid client credentials';
    } else if (code === 'unsupported_grant_type') {
      text = 'grant type not supported';
    }
    return { status: 400, body: { error: code, error_description: text } };
  }

  private static errorReply(error: unknown): FaultResponse {
    const headers = { 'content-type': JSON_CONTENT_TYPE };
    if (error instanceof SalesforceApiError) return { status: error.status, body: error.body(), headers };
    if (error instanceof SoqlError) {
      return { status: 400, body: [{ message: error.message, errorCode: error.errorCode }], headers };
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Body parser failures: malformed JSON in the request.
      return {
        status: 400,
        body: [{ message: (error as Error).message, errorCode: 'JSON_PARSER_ERROR' }],
        headers,
      };
    }
    return {
      status: 500,
      body: [
        {
          message: `An unexpected error occurred. Please include this ErrorId if you contact support: ${Date.now()}-sandbox (${error instanceof Error ? error.message : String(error)})`,
          errorCode: 'UNKNOWN_EXCEPTION',
        },
      ],
      headers,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Middleware

  /** Bearer token (or `oauth_token` query parameter on the identity URL) → 401 INVALID_SESSION_ID when bad. */
  private authenticate(req: Request, res: Response): TokenInfo | undefined {
    const token = bearerToken(req) ?? stringParam(req.query.oauth_token);
    const result = this.oauth.authenticate(token);
    if (result === 'expired' || result === 'invalid') {
      sendJson(res, 401, SESSION_EXPIRED);
      return undefined;
    }
    return result;
  }

  /**
   * Every REST call: version check, session check, the daily API allocation ("API Request Limits and
   * Allocations": 403 REQUEST_LIMIT_EXCEEDED) and the `Sforce-Limit-Info` header.
   */
  private api(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const versionText = routeParam(req, 'version');
      const versionMatch = /^v(\d+)\.0$/.exec(versionText);
      if (!versionMatch || Number(versionMatch[1]) < MIN_VERSION || Number(versionMatch[1]) > MAX_VERSION) {
        return sendJson(res, 404, NOT_FOUND);
      }
      const token = this.authenticate(req, res);
      if (!token) return;
      if (!this.countApiCall(token, res)) return;
      res.locals.salesforce = { version: `${versionMatch[1]}.0`, token } satisfies ApiContext;
      next();
    };
  }

  private countApiCall(token: TokenInfo, res: Response): boolean {
    const decision = this.rateLimiter.take(token.account.id);
    const limit = Number.isFinite(decision.dailyLimit) ? decision.dailyLimit : 15_000;
    const used = Number.isFinite(decision.dailyLimit) ? decision.dailyLimit - decision.dailyRemaining : 0;
    res.setHeader('Sforce-Limit-Info', `api-usage=${used}/${limit}`);
    if (!decision.allowed) {
      sendJson(res, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
      return false;
    }
    return true;
  }

  /** Runs a handler and turns Salesforce errors into their JSON error arrays. */
  private handler(run: (req: Request, res: Response, ctx: ApiContext) => void): RequestHandler {
    return (req, res) => {
      try {
        run(req, res, context(res));
      } catch (error) {
        if (error instanceof SalesforceApiError || error instanceof SoqlError) {
          const reply = SalesforceSandbox.errorReply(error);
          return sendJson(res, reply.status, reply.body);
        }
        throw error;
      }
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Routes

  private registerRoutes(): void {
    const api = this.api();
    const data = '/services/data/:version';

    // Streaming API (CometD, long-polling): Change Data Capture channels; see streaming.ts.
    this.post('/cometd/:version', (req, res) => this.streaming.handle(req, res));

    // "Revoking OAuth Tokens" (Mobile SDK guide / Salesforce Help): POST form `token` (GET ?token= too). A refresh
    // token takes its sessions with it; 200 on success, 400 invalid_token for an unknown or already revoked token.
    // The error body is form-encoded, which is what jsforce's revokeToken() parses.
    const revoke: RequestHandler = (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = stringParam(body.token) ?? stringParam(req.query.token);
      const refresh = token ? this.oauth.lookupRefreshToken(token) : undefined;
      const access = token ? this.oauth.lookupAccessToken(token) : undefined;
      const live = (refresh && !refresh.revoked) || (access && !access.revoked);
      if (!token || !live) {
        res.status(400).type('application/x-www-form-urlencoded');
        return void res.send(
          new URLSearchParams({
            error: token ? 'invalid_token' : 'unsupported_token_type',
            error_description: token ? 'Token was invalid' : 'Token type not supported',
          }).toString(),
        );
      }
      this.oauth.revokeToken(token);
      res.status(200).end();
    };
    this.post('/services/oauth2/revoke', revoke);
    this.get('/services/oauth2/revoke', revoke);

    // "UserInfo Endpoint" (OpenID Connect).
    this.get('/services/oauth2/userinfo', (req, res) => {
      const token = this.authenticate(req, res);
      if (!token) return;
      sendJson(res, 200, this.userInfo());
    });

    // "Identity URLs": GET {login}/id/{orgId}/{userId}, token as Bearer header or oauth_token parameter.
    this.get('/id/:orgId/:userId', (req, res) => {
      const token = this.authenticate(req, res);
      if (!token) return;
      if (routeParam(req, 'orgId') !== this.org.orgId || routeParam(req, 'userId') !== this.org.userId) {
        return void res.status(403).type('text/plain').send('Bad_Id');
      }
      sendJson(res, 200, this.identity());
    });

    // "Versions": public, no session needed.
    this.get('/services/data', (_req, res) => {
      const versions = [];
      for (let version = MIN_VERSION; version <= MAX_VERSION; version++) {
        versions.push({
          label: releaseLabel(version),
          url: `/services/data/v${version}.0`,
          version: `${version}.0`,
        });
      }
      sendJson(res, 200, versions);
    });

    // "Resources by Version".
    this.get(
      data,
      api,
      this.handler((_req, res, ctx) => sendJson(res, 200, this.resources(ctx.version))),
    );

    // "Limits".
    this.get(
      `${data}/limits`,
      api,
      this.handler((_req, res) => {
        const usage = this.rateLimiter.peek(this.org.orgId);
        const max = this.rateLimiter.config.dailyLimit ?? 15_000;
        sendJson(res, 200, {
          DailyApiRequests: { Max: max, Remaining: Math.max(0, max - usage.dailyUsed) },
          DailyBulkV2QueryJobs: { Max: 10_000, Remaining: 10_000 },
          DataStorageMB: { Max: 5, Remaining: 5 },
        });
      }),
    );

    // "Query" and "QueryAll" (+ "Query More Results" via nextRecordsUrl).
    for (const resource of ['query', 'queryAll'] as const) {
      this.get(
        `${data}/${resource}`,
        api,
        this.handler((req, res, ctx) => {
          const soql = stringParam(req.query.q);
          if (!soql) {
            return sendJson(res, 400, [
              { message: 'A query string has to be specified', errorCode: 'MALFORMED_QUERY' },
            ]);
          }
          const page = this.org.query(soql, {
            version: ctx.version,
            includeDeleted: resource === 'queryAll',
            pageSize: this.pageSize(req) ?? DEFAULT_QUERY_PAGE_SIZE,
          });
          sendJson(res, 200, page);
        }),
      );
      this.get(
        `${data}/${resource}/:locator`,
        api,
        this.handler((req, res, ctx) => {
          sendJson(
            res,
            200,
            this.org.queryMore(routeParam(req, 'locator'), {
              version: ctx.version,
              pageSize: this.pageSize(req),
            }),
          );
        }),
      );
    }

    // "Describe Global".
    this.get(
      `${data}/sobjects`,
      api,
      this.handler((_req, res, ctx) => {
        sendJson(res, 200, {
          encoding: 'UTF-8',
          maxBatchSize: MAX_COLLECTION_RECORDS,
          sobjects: this.schema.objects().map((object) => describeGlobalEntry(ctx.version, object)),
        });
      }),
    );

    // "sObject Describe".
    this.get(
      `${data}/sobjects/:type/describe`,
      api,
      this.handler((req, res, ctx) => {
        const object = this.org.objectOrThrow(routeParam(req, 'type'));
        sendJson(res, 200, describeObject(ctx.version, object, this.schema));
      }),
    );

    // "sObject Get Updated" / "sObject Get Deleted".
    this.get(
      `${data}/sobjects/:type/updated`,
      api,
      this.handler((req, res) => {
        const [start, end] = this.replicationRange(req);
        sendJson(res, 200, this.org.updatedIds(routeParam(req, 'type'), start, end));
      }),
    );
    this.get(
      `${data}/sobjects/:type/deleted`,
      api,
      this.handler((req, res) => {
        const [start, end] = this.replicationRange(req);
        sendJson(res, 200, this.org.deletedRecords(routeParam(req, 'type'), start, end));
      }),
    );

    // "sObject Basic Information".
    this.get(
      `${data}/sobjects/:type`,
      api,
      this.handler((req, res, ctx) => {
        const object = this.org.objectOrThrow(routeParam(req, 'type'));
        const recent = this.org
          .records(object.name)
          .slice(-10)
          .reverse()
          .map((record) => ({
            attributes: { type: object.name, url: this.org.recordUrl(ctx.version, object.name, record.id) },
            Id: record.id,
            ...('Name' in record.fields ? { Name: record.fields.Name } : {}),
          }));
        sendJson(res, 200, { objectDescribe: describeGlobalEntry(ctx.version, object), recentItems: recent });
      }),
    );

    // "sObject Create": 201 {id, success, errors}; failures are 400 with the error array.
    this.post(
      `${data}/sobjects/:type`,
      api,
      this.handler((req, res) => {
        const [result] = this.org.createMany(
          [{ type: routeParam(req, 'type'), fields: this.bodyObject(req) }],
          false,
        );
        this.sendSaveResult(res, result, 201);
      }),
    );

    // "sObject Rows": GET (all fields or ?fields=), PATCH (204), DELETE (204).
    this.get(
      `${data}/sobjects/:type/:id`,
      api,
      this.handler((req, res, ctx) => {
        const fields = stringParam(req.query.fields)
          ?.split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        const record = this.org.retrieve(routeParam(req, 'type'), routeParam(req, 'id'), fields, ctx.version);
        if (!record) return this.sendMissing(res, routeParam(req, 'id'));
        sendJson(res, 200, record);
      }),
    );
    this.patch(
      `${data}/sobjects/:type/:id`,
      api,
      this.handler((req, res) => {
        const id = routeParam(req, 'id');
        const type = routeParam(req, 'type');
        if (!this.existsAs(type, id)) return this.sendMissing(res, id);
        const [result] = this.org.updateMany([{ type, id, fields: this.bodyObject(req) }], false);
        if (!result.success) return sendJson(res, 400, toErrorBody(result.errors));
        res.status(204).end();
      }),
    );
    this.delete(
      `${data}/sobjects/:type/:id`,
      api,
      this.handler((req, res) => {
        const id = routeParam(req, 'id');
        const type = routeParam(req, 'type');
        if (!this.existsAs(type, id)) return this.sendMissing(res, id);
        const [result] = this.org.deleteMany([id], false, type);
        if (!result.success) return sendJson(res, 400, toErrorBody(result.errors));
        res.status(204).end();
      }),
    );

    // "sObject Rows by External ID": GET one record, PATCH = upsert (201 created / 200 updated since v46.0).
    this.get(
      `${data}/sobjects/:type/:field/:value`,
      api,
      this.handler((req, res, ctx) => {
        const object = this.org.objectOrThrow(routeParam(req, 'type'));
        const field = this.schema.field(object, routeParam(req, 'field'));
        if (!field?.externalId && field?.name !== 'Id') {
          return sendJson(res, 404, [
            {
              errorCode: 'NOT_FOUND',
              message: `Provided external ID field does not exist or is not accessible: ${routeParam(req, 'field')}`,
            },
          ]);
        }
        const value = routeParam(req, 'value').toLowerCase();
        const matches = this.org
          .records(object.name)
          .filter((record) => String(record.fields[field.name] ?? '').toLowerCase() === value);
        if (matches.length === 0) return sendJson(res, 404, NOT_FOUND);
        if (matches.length > 1) {
          return sendJson(
            res,
            300,
            matches.map((record) => this.org.recordUrl(ctx.version, object.name, record.id)),
          );
        }
        sendJson(res, 200, this.org.retrieve(object.name, matches[0].id, undefined, ctx.version));
      }),
    );
    this.patch(
      `${data}/sobjects/:type/:field/:value`,
      api,
      this.handler((req, res, ctx) => {
        const [result] = this.org.upsertMany(
          routeParam(req, 'type'),
          routeParam(req, 'field'),
          [{ value: routeParam(req, 'value'), fields: this.bodyObject(req) }],
          false,
        );
        if (!result.success) {
          const duplicate = result.errors.find((error) => error.statusCode === 'DUPLICATE_EXTERNAL_ID');
          return sendJson(res, duplicate ? 300 : 400, toErrorBody(result.errors));
        }
        if (result.created)
          return sendJson(res, 201, { id: result.id, success: true, errors: [], created: true });
        if (Number(ctx.version) < 46) return void res.status(204).end();
        sendJson(res, 200, { id: result.id, success: true, errors: [], created: false });
      }),
    );

    // "sObject Collections": create, update, delete, retrieve, upsert (200 records per call).
    this.post(
      `${data}/composite/sobjects`,
      api,
      this.handler((req, res) => {
        const { records, allOrNone } = this.collectionBody(req);
        const inputs = records.map((record) => ({
          type: this.recordType(record),
          fields: this.withoutAttributes(record),
        }));
        sendJson(res, 200, this.org.createMany(inputs, allOrNone));
      }),
    );
    this.patch(
      `${data}/composite/sobjects`,
      api,
      this.handler((req, res) => {
        const { records, allOrNone } = this.collectionBody(req);
        const inputs = records.map((record) => {
          const { id, Id, ...fields } = this.withoutAttributes(record);
          return { type: this.recordType(record), id: id ?? Id, fields };
        });
        sendJson(res, 200, this.org.updateMany(inputs, allOrNone));
      }),
    );
    this.delete(
      `${data}/composite/sobjects`,
      api,
      this.handler((req, res) => {
        const ids = (stringParam(req.query.ids) ?? '')
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean);
        if (ids.length === 0) {
          return sendJson(res, 400, [
            { message: 'ids parameter is required', errorCode: 'MISSING_ARGUMENT' },
          ]);
        }
        this.checkCollectionSize(ids.length);
        sendJson(res, 200, this.org.deleteMany(ids, stringParam(req.query.allOrNone) === 'true'));
      }),
    );
    const retrieve = this.handler((req, res, ctx) => {
      const body = (req.method === 'POST' ? this.bodyObject(req) : {}) as { ids?: unknown; fields?: unknown };
      const listParam = (value: unknown) =>
        Array.isArray(value)
          ? value.map(String)
          : typeof value === 'string'
            ? value.split(',').map((part) => part.trim())
            : [];
      const ids = listParam(body.ids ?? req.query.ids);
      const fields = listParam(body.fields ?? req.query.fields);
      if (ids.length === 0 || fields.length === 0) {
        return sendJson(res, 400, [
          { message: 'ids and fields are required', errorCode: 'MISSING_ARGUMENT' },
        ]);
      }
      if (ids.length > 2000) {
        return sendJson(res, 400, [
          {
            message: 'record limit reached. cannot submit more than 2000 records into this call',
            errorCode: 'EXCEEDED_ID_LIMIT',
          },
        ]);
      }
      sendJson(
        res,
        200,
        ids.map((id) => this.org.retrieve(routeParam(req, 'type'), id, fields, ctx.version) ?? null),
      );
    });
    this.post(`${data}/composite/sobjects/:type`, api, retrieve);
    this.get(`${data}/composite/sobjects/:type`, api, retrieve);
    this.patch(
      `${data}/composite/sobjects/:type/:field`,
      api,
      this.handler((req, res) => {
        const { records, allOrNone } = this.collectionBody(req);
        const type = routeParam(req, 'type');
        const object = this.org.objectOrThrow(type);
        const field = this.schema.field(object, routeParam(req, 'field'));
        const fieldName = field?.name ?? routeParam(req, 'field');
        const inputs = records.map((record) => {
          const fields = this.withoutAttributes(record);
          const key = Object.keys(fields).find((name) => name.toLowerCase() === fieldName.toLowerCase());
          return { type: this.recordType(record), value: key ? fields[key] : undefined, fields };
        });
        sendJson(res, 200, this.org.upsertMany(type, routeParam(req, 'field'), inputs, allOrNone));
      }),
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Request helpers

  /** `Sforce-Query-Options: batchSize=N` ("Query Options Header"): 200 to 2,000, a hint Salesforce may round. */
  private pageSize(req: Request): number | undefined {
    const header = req.headers['sforce-query-options'];
    const match = /batchSize\s*=\s*(\d+)/i.exec(Array.isArray(header) ? header.join(',') : (header ?? ''));
    if (!match) return undefined;
    return Math.min(DEFAULT_QUERY_PAGE_SIZE, Math.max(MIN_QUERY_PAGE_SIZE, Number(match[1])));
  }

  private replicationRange(req: Request): [number, number] {
    const parse = (name: string): number => {
      const text = stringParam(req.query[name]);
      const ms = text === undefined ? undefined : (parseDateTime(text) ?? Date.parse(text));
      if (ms === undefined || !Number.isFinite(ms)) {
        throw new SalesforceApiError(
          400,
          'INVALID_DATE_FORMAT',
          `${name}: invalid date format: ${text ?? '(missing)'}`,
        );
      }
      return ms;
    };
    const start = parse('start');
    const end = parse('end');
    if (end < start)
      throw new SalesforceApiError(400, 'INVALID_REPLICATION_DATE', 'EndDate must be greater than StartDate');
    if (start < this.clock.nowMs() - REPLICATION_WINDOW_MS) {
      throw new SalesforceApiError(
        400,
        'INVALID_REPLICATION_DATE',
        'startDate cannot be more than 30 days ago',
      );
    }
    return [start, end];
  }

  private bodyObject(req: Request): Record<string, unknown> {
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
    }
    return body as Record<string, unknown>;
  }

  private collectionBody(req: Request): { records: Array<Record<string, unknown>>; allOrNone: boolean } {
    const body = this.bodyObject(req);
    if (!Array.isArray(body.records)) {
      throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'records is required and must be an array');
    }
    this.checkCollectionSize(body.records.length);
    const records = body.records.map((record: unknown) => {
      if (!record || typeof record !== 'object' || Array.isArray(record)) {
        throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'each record must be a JSON object');
      }
      return record as Record<string, unknown>;
    });
    return { records, allOrNone: body.allOrNone === true };
  }

  private checkCollectionSize(count: number): void {
    if (count > MAX_COLLECTION_RECORDS) {
      throw new SalesforceApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION_RECORDS} records into this call`,
      );
    }
  }

  private recordType(record: Record<string, unknown>): unknown {
    const attributes = record.attributes as { type?: unknown } | undefined;
    return attributes?.type;
  }

  private withoutAttributes(record: Record<string, unknown>): Record<string, unknown> {
    const { attributes: _attributes, ...fields } = record;
    void _attributes;
    return fields;
  }

  private sendSaveResult(res: Response, result: SaveResult, successStatus: number): void {
    if (!result.success) return sendJson(res, 400, toErrorBody(result.errors));
    sendJson(res, successStatus, { id: result.id, success: true, errors: [] });
  }

  /** Whether `id` is a live record of sObject `type` (an unknown type throws the CRM's NOT_FOUND first). */
  private existsAs(type: string, id: string): boolean {
    this.org.objectOrThrow(type);
    const found = this.org.findById(id);
    return Boolean(found && found.object.name.toLowerCase() === type.toLowerCase());
  }

  private sendMissing(res: Response, id: string): void {
    if (this.org.findDeleted(id)) {
      return sendJson(res, 404, [
        { errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] },
      ]);
    }
    sendJson(res, 404, NOT_FOUND);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Shapes

  private resources(version: string): Record<string, string> {
    const base = `/services/data/v${version}`;
    return {
      limits: `${base}/limits`,
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      composite: `${base}/composite`,
      search: `${base}/search`,
      recent: `${base}/recent`,
      identity: this.identityUrl,
    };
  }

  private identity(): Record<string, unknown> {
    const { org } = this;
    const base = this.baseUrl;
    return {
      id: this.identityUrl,
      asserted_user: true,
      user_id: org.userId,
      organization_id: org.orgId,
      username: org.user.username,
      nick_name: org.user.username.split('@')[0],
      display_name: `${org.user.firstName} ${org.user.lastName}`,
      email: org.user.email,
      email_verified: true,
      first_name: org.user.firstName,
      last_name: org.user.lastName,
      timezone: 'GMT',
      photos: { picture: `${base}/profilephoto/005/F`, thumbnail: `${base}/profilephoto/005/T` },
      addr_street: null,
      addr_city: null,
      addr_state: null,
      addr_country: null,
      addr_zip: null,
      mobile_phone: null,
      mobile_phone_verified: false,
      is_lightning_login_user: false,
      status: { created_date: null, body: null },
      urls: {
        enterprise: `${base}/services/Soap/c/{version}/${org.orgId.slice(0, 15)}`,
        metadata: `${base}/services/Soap/m/{version}/${org.orgId.slice(0, 15)}`,
        partner: `${base}/services/Soap/u/{version}/${org.orgId.slice(0, 15)}`,
        rest: `${base}/services/data/v{version}/`,
        sobjects: `${base}/services/data/v{version}/sobjects/`,
        search: `${base}/services/data/v{version}/search/`,
        query: `${base}/services/data/v{version}/query/`,
        recent: `${base}/services/data/v{version}/recent/`,
        profile: `${base}/${org.userId}`,
        custom_domain: base,
      },
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      last_modified_date: formatDateTime(this.clock.nowMs()),
      is_app_installed: true,
    };
  }

  private userInfo(): Record<string, unknown> {
    const { org } = this;
    return {
      sub: this.identityUrl,
      user_id: org.userId,
      organization_id: org.orgId,
      preferred_username: org.user.username,
      nickname: org.user.username.split('@')[0],
      name: `${org.user.firstName} ${org.user.lastName}`,
      email: org.user.email,
      email_verified: true,
      given_name: org.user.firstName,
      family_name: org.user.lastName,
      zoneinfo: 'GMT',
      profile: `${this.baseUrl}/${org.userId}`,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      updated_at: formatDateTime(this.clock.nowMs()),
      is_app_installed: true,
    };
  }
}

export function createSalesforceSandbox(options: SalesforceSandboxOptions = {}): SalesforceSandbox {
  return new SalesforceSandbox(options);
}
