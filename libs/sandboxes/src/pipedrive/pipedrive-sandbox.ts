import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  RecordStore,
  SandboxServer,
  compareKeys,
  decodeCursor,
  encodeCursor,
  type FaultResponse,
  type OAuthAccount,
  type RateLimitDecision,
  type RateLimiterOptions,
  type SandboxClock,
  type SortKey,
  type WebhookDispatcherOptions,
  type WebhookSubscription,
} from '../kit';
import {
  ERROR_INFO,
  PipedriveHttpError,
  ValidationError,
  parseOrThrow,
  parseRfc3339,
  pipedriveErrorReply,
  sendReply,
} from './pipedrive-errors';
import { PipedriveFieldCatalog, standardOrganizationFields, standardPersonFields } from './pipedrive-fields';
import {
  buildObjectSpecs,
  listQuerySchema,
  personFieldBodySchema,
  searchQuerySchema,
  webhookBodySchema,
  type ApiRecord,
  type ObjectSpec,
  type ObjectSpecs,
  type StoredRecord,
  type StoredRecordOf,
} from './pipedrive-objects';
import {
  v1Time,
  type ActivityRecord,
  type OrganizationRecord,
  type PersonRecord,
  type PipedriveField,
  type PipedriveObjectName,
} from './pipedrive-records';

/** Token cost of one request against the daily budget (approximations of Pipedrive's published costs). */
export interface PipedriveTokenCosts {
  v2Get: number;
  v2List: number;
  v2Search: number;
  v2Write: number;
  v1: number;
}

export interface PipedriveSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  /** Registered callback URLs; any redirect_uri is accepted when omitted. */
  redirectUris?: string[];
  /** Pipedrive access tokens live an hour (expires_in 3599). */
  accessTokenTtlSeconds?: number;
  /** Burst window and daily token budget; counted always, enforced only with `enforce: true`. */
  rateLimit?: RateLimiterOptions;
  tokenCosts?: Partial<PipedriveTokenCosts>;
  /** Personal API token accepted in `x-api-token` / `?api_token=` (besides OAuth bearer tokens). */
  apiToken?: string;
  /** Persons (with their organizations) seeded at construction and after reset(). */
  demoPersons?: number;
  seed?: number;
  clock?: SandboxClock;
  webhooks?: WebhookDispatcherOptions;
  companyId?: number;
  companyName?: string;
}

/** The persons' index by lower-cased e-mail address. */
const EMAIL_INDEX = 'email';
const CUSTOM_FIELDS_INDEX = 'custom_fields';

/** A record's custom field values as the search sees them: text and numbers, lower-cased. */
function searchableCustomValues(custom: Record<string, unknown> | null | undefined): string[] {
  return Object.values(custom ?? {})
    .filter((value): value is string | number => typeof value === 'string' || typeof value === 'number')
    .map((value) => String(value).toLowerCase());
}

export type PipedriveObject = PipedriveObjectName | 'persons' | 'organizations' | 'activities';

interface SeedPersonsOptions {
  /** Give every seeded person (and organization) the same add_time/update_time: the clock's current second. */
  sameTimestamp?: boolean;
  /** Create an organization per fake company and link persons to it (default true). */
  withOrganizations?: boolean;
}

const DEFAULT_TOKEN_COSTS: PipedriveTokenCosts = { v2Get: 1, v2List: 10, v2Search: 20, v2Write: 5, v1: 20 };

interface ListPosition {
  /** Sort field, direction, last sort value and last id of the previous page. */
  s: string;
  d: 'asc' | 'desc';
  v: SortKey;
  id: number;
}

export class PipedriveSandbox extends SandboxServer {
  readonly persons: RecordStore<PersonRecord>;
  readonly organizations: RecordStore<OrganizationRecord>;
  readonly activities: RecordStore<ActivityRecord>;
  readonly companyId: number;
  readonly apiToken: string;
  private personFieldCatalog!: PipedriveFieldCatalog;
  private organizationFieldCatalog!: PipedriveFieldCatalog;
  private readonly nextIds = { person: 1, organization: 1, activity: 1, field: 9100, webhook: 1 };
  private readonly tokenCosts: PipedriveTokenCosts;
  private readonly specs: ObjectSpecs;
  private readonly demoPersons: number;
  private readonly sortedViews = new Map<string, { version: number; records: StoredRecord[] }>();

  constructor(options: PipedriveSandboxOptions = {}) {
    const clientId = options.clientId ?? 'pipedrive-sandbox-client';
    super({
      name: 'pipedrive',
      clock: options.clock,
      seed: options.seed,
      webhooks: options.webhooks,
      rateLimit: { limit: 80, windowMs: 2000, dailyLimit: 30_000, ...options.rateLimit },
      // Pipedrive OAuth: https://pipedrive.readme.io/docs/marketplace-oauth-authorization
      oauth: {
        clientId,
        clientSecret: options.clientSecret ?? 'pipedrive-sandbox-secret',
        crmName: 'Pipedrive',
        accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3599,
        supportsPkce: false,
        authorizePath: '/oauth/authorize',
        tokenPath: '/oauth/token',
        revokePath: '/oauth/revoke',
        clientAuth: 'basic',
        redirectUris: options.redirectUris,
        defaultScopes: ['base', 'contacts:full', 'activities:full'],
        accounts: [
          {
            id: String(options.companyId ?? 7_654_321),
            name: options.companyName ?? 'Sandbox Company',
            userId: '1',
            userName: 'Demo Admin',
            userEmail: 'admin@sandbox-company.example',
          },
        ],
        // Pipedrive's access tokens look like "<company>:<user>:<hex>"; refresh tokens likewise.
        generateAccessToken: (account) => `${account.id}:${account.userId}:${randomUUID().replace(/-/g, '')}`,
        generateRefreshToken: (account) =>
          `${account.id}:${account.userId}:${randomUUID().replace(/-/g, '')}r`,
        tokenResponse: (grant) => ({
          access_token: grant.accessToken,
          token_type: 'Bearer',
          refresh_token: grant.refreshToken,
          scope: grant.scopes.join(','),
          expires_in: grant.expiresInSeconds,
          api_domain: this.baseUrl,
        }),
      },
      rateLimitResponse: (retryAfterSeconds) => ({
        status: 429,
        headers: this.rateLimitHeaders(undefined, retryAfterSeconds),
        body: {
          success: false,
          error: 'Request over limit',
          errorCode: 429,
          error_info: ERROR_INFO,
          data: null,
        },
      }),
      notFoundResponse: () => PipedriveSandbox.errorReply(404, 'Unknown method .'),
      errorResponse: (error) => {
        if (error instanceof PipedriveHttpError)
          return PipedriveSandbox.errorReply(error.status, error.message, error.extra);
        const status = (error as { status?: unknown }).status;
        if (typeof status === 'number' && status >= 400 && status < 500)
          return PipedriveSandbox.errorReply(status, (error as Error).message);
        return PipedriveSandbox.errorReply(500, 'Internal server error');
      },
    });
    this.companyId = Number(this.oauth.accounts[0].id);
    this.apiToken = options.apiToken ?? 'sandbox-api-token-0123456789abcdef';
    this.tokenCosts = { ...DEFAULT_TOKEN_COSTS, ...options.tokenCosts };
    this.demoPersons = options.demoPersons ?? 0;
    this.persons = this.createStore<PersonRecord>('persons');
    // Pipedrive's search is indexed: an exact e-mail search does not scan every person.
    this.persons.index(EMAIL_INDEX, (person) => person.emails.map((email) => email.value.toLowerCase()));
    // So is an exact search of custom field values (a matching key kept in a custom field).
    this.persons.index(CUSTOM_FIELDS_INDEX, (person) => searchableCustomValues(person.custom_fields));
    this.organizations = this.createStore<OrganizationRecord>('organizations');
    this.organizations.index(CUSTOM_FIELDS_INDEX, (org) => searchableCustomValues(org.custom_fields));
    this.activities = this.createStore<ActivityRecord>('activities');
    this.createFieldCatalogs();
    this.specs = buildObjectSpecs({
      persons: this.persons,
      organizations: this.organizations,
      activities: this.activities,
      personCustomFieldKeys: () => this.personFieldCatalog.customKeys(),
      organizationCustomFieldKeys: () => this.organizationFieldCatalog.customKeys(),
      nowMs: () => this.clock.nowMs(),
    });
    this.webhooks.signer = undefined; // Pipedrive does not sign deliveries; HTTP Basic auth only.
    this.registerRoutes();
    this.onReset(() => {
      this.persons.clear();
      this.organizations.clear();
      this.activities.clear();
      Object.assign(this.nextIds, { person: 1, organization: 1, activity: 1 });
      this.webhooks.reset(true);
      if (this.demoPersons > 0) this.seedPersons(this.demoPersons);
    });
    this.onSeed((request) => {
      const object = request.object ?? 'persons';
      if (object !== 'persons' && object !== 'person')
        throw new PipedriveHttpError(400, `seeding ${object} is not supported; seed persons`);
      return { created: this.seedPersons(request.count, { sameTimestamp: request.sameTimestamp }).length };
    });
    this.onPurge((request) => {
      const object = (request.object ?? 'persons') as PipedriveObject;
      const store = this.spec(object).store;
      return { purged: request.ids.filter((id) => store.purge(id)) };
    });
    if (this.demoPersons > 0) this.seedPersons(this.demoPersons);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Staging helpers for tests and the demo

  /** Creates `count` fake persons (and their organizations) as if entered in Pipedrive's UI. */
  seedPersons(count: number, options: SeedPersonsOptions = {}): ApiRecord[] {
    const nowMs = this.nowToTheSecond();
    const withOrganizations = options.withOrganizations ?? true;
    const orgIdsByName = new Map<string, number>();
    for (const org of this.organizations.values()) orgIdsByName.set(org.name, Number(org.id));
    const leadSource = this.personFieldCatalog.list().find((f) => f.name === 'Lead source');
    const linkedIn = this.personFieldCatalog.list().find((f) => f.name === 'LinkedIn profile');
    // Without sameTimestamp, stamps step one second apart and end at "now", oldest first, but never before the
    // newest existing record: a seed after a sync must not create records that look older than the sync.
    let newestMs = 0;
    for (const record of this.persons.values()) newestMs = Math.max(newestMs, record.updateTimeMs);
    for (const record of this.organizations.values()) newestMs = Math.max(newestMs, record.updateTimeMs);
    const created: ApiRecord[] = [];
    for (let i = 0; i < count; i++) {
      const stampMs = options.sameTimestamp ? nowMs : Math.max(newestMs, nowMs - (count - 1 - i) * 1000);
      const fake = this.people.person();
      let orgId: number | null = null;
      if (withOrganizations) {
        orgId = orgIdsByName.get(fake.company.name) ?? null;
        if (orgId === null) {
          const org = this.insertRecord(
            'organization',
            {
              name: fake.company.name,
              owner_id: 1,
              address: { value: `${fake.city}, ${fake.country}` },
              website: `https://${fake.company.domain}`,
              industry: null,
              employee_count: this.random.int(5, 5000),
              label_ids: [],
              visible_to: 3,
              custom_fields: {},
            } as Omit<OrganizationRecord, 'id' | 'addTimeMs' | 'updateTimeMs'>,
            stampMs,
          );
          orgId = Number(org.id);
          orgIdsByName.set(fake.company.name, orgId);
        }
      }
      const custom: Record<string, unknown> = {};
      if (leadSource?.options?.length) custom[leadSource.key] = this.random.pick(leadSource.options).id;
      if (linkedIn) custom[linkedIn.key] = `https://www.linkedin.example/in/${fake.email.split('@')[0]}`;
      const person = this.insertRecord(
        'person',
        {
          name: `${fake.firstName} ${fake.lastName}`,
          first_name: fake.firstName,
          last_name: fake.lastName,
          owner_id: 1,
          org_id: orgId,
          emails: [{ value: fake.email, primary: true, label: 'work' }],
          phones: [{ value: fake.phone, primary: true, label: 'work' }],
          label_ids: [],
          visible_to: 3,
          job_title: fake.title,
          notes: null,
          custom_fields: custom,
        } as Omit<PersonRecord, 'id' | 'addTimeMs' | 'updateTimeMs'>,
        stampMs,
      );
      created.push(this.specs.person.toApi(person));
    }
    return created;
  }

  /** Alias of seedPersons with the kit's common name. */
  seedContacts(count: number, options: SeedPersonsOptions = {}): ApiRecord[] {
    return this.seedPersons(count, options);
  }

  /** Creates a record as a user would in the Pipedrive UI (webhooks fire with change_source "app"). */
  createInCrm(object: PipedriveObject, fields: Record<string, unknown>): ApiRecord {
    const spec = this.spec(object);
    const record = this.insertRecord(
      spec.name,
      spec.create(fields, this.oauth.accounts[0]),
      this.nowToTheSecond(),
    );
    this.emitChange(spec.name, 'create', record, null, 'app');
    return this.apiOf(spec.name, record);
  }

  /** Edits a record "in Pipedrive" between sync runs: update_time moves to the clock's now; webhooks fire. */
  editInCrm(object: PipedriveObject, id: number | string, fields: Record<string, unknown>): ApiRecord {
    const spec = this.spec(object);
    const current = spec.store.get(String(id));
    if (!current) throw new Error(`pipedrive sandbox: no ${spec.name} ${id}`);
    return this.applyUpdate(spec.name, current, fields, 'app');
  }

  deleteInCrm(object: PipedriveObject, id: number | string): void {
    const spec = this.spec(object);
    const current = spec.store.get(String(id));
    if (!current) throw new Error(`pipedrive sandbox: no ${spec.name} ${id}`);
    this.applyDelete(spec.name, current, 'app');
  }

  /** Merges `id` into `mergeWithId` "in Pipedrive", as a user would: the merged record goes, the other remains. */
  mergeInCrm(
    object: 'persons' | 'organizations',
    id: number | string,
    mergeWithId: number | string,
  ): ApiRecord {
    return this.merge(object, String(id), String(mergeWithId), 'app');
  }

  /**
   * A merge keeps `mergeWithId` (its values win) and removes `id`; webhooks v2 report it as a change of the record
   * that remains and a deletion of the merged one.
   */
  private merge(
    object: 'persons' | 'organizations',
    id: string,
    mergeWithId: string,
    source: 'api' | 'app',
  ): ApiRecord {
    const spec = this.spec(object);
    const merged = spec.store.get(id);
    const remaining = spec.store.get(mergeWithId);
    if (!merged || !remaining || id === mergeWithId)
      throw new PipedriveHttpError(404, `${spec.label} not found`, { status: 'error' });
    this.applyDelete(spec.name, merged, source);
    return this.applyUpdate(spec.name, remaining, {}, source);
  }

  /** Live records of `object` in API v2 shape, in id order. */
  /** One record of `object` as the API returns it; undefined when there is none (or it was deleted). */
  record(object: PipedriveObject, id: number | string): ApiRecord | undefined {
    const spec = this.spec(object);
    const stored = spec.store.get(String(id));
    return stored ? this.apiOf(spec.name, stored) : undefined;
  }

  records(object: PipedriveObject): ApiRecord[] {
    const spec = this.spec(object);
    return (spec.store.all() as StoredRecord[]).map((record) => this.apiOf(spec.name, record));
  }

  /** Deleted records of `object`: `{id, deletedAt}`. */
  deletedRecords(object: PipedriveObject): Array<{ id: number; deletedAt: Date }> {
    return this.spec(object)
      .store.deleted()
      .map((t) => ({ id: Number(t.id), deletedAt: t.deletedAt }));
  }

  /** Adds a custom person field (40-hex key, like Pipedrive's) and returns its metadata. */
  addPersonField(
    name: string,
    fieldType: string,
    options: string[] = [],
    /** Made required in Pipedrive's data-field settings (`mandatory_flag`). */
    flags: { mandatory?: boolean } = {},
  ): PipedriveField {
    return this.personFieldCatalog.add(name, fieldType, options, flags);
  }

  personFields(): PipedriveField[] {
    return this.personFieldCatalog.list();
  }

  /** Key of a person field by its display name (custom fields have 40-hex keys). */
  personFieldKey(name: string): string {
    return this.personFieldCatalog.key(name);
  }

  /** Adds a custom organization field (40-hex key, like Pipedrive's) and returns its metadata. */
  addOrganizationField(
    name: string,
    fieldType: string,
    options: string[] = [],
    flags: { mandatory?: boolean } = {},
  ): PipedriveField {
    return this.organizationFieldCatalog.add(name, fieldType, options, flags);
  }

  organizationFields(): PipedriveField[] {
    return this.organizationFieldCatalog.list();
  }

  /** Key of an organization field by its display name (custom fields have 40-hex keys). */
  organizationFieldKey(name: string): string {
    return this.organizationFieldCatalog.key(name);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Routes

  private registerRoutes(): void {
    const costs = this.tokenCosts;
    // API v2 objects: https://developers.pipedrive.com/docs/api/v1/Persons (API v2 "Get all persons" etc.)
    this.get('/api/v2/persons/search', this.guard(costs.v2Search), (req, res) =>
      this.search('person', req, res),
    );
    this.get('/api/v2/organizations/search', this.guard(costs.v2Search), (req, res) =>
      this.search('organization', req, res),
    );
    for (const name of ['person', 'organization', 'activity'] as const) {
      const plural = this.specs[name].plural;
      this.get(`/api/v2/${plural}`, this.guard(costs.v2List), (req, res) => this.list(name, req, res));
      this.get(`/api/v2/${plural}/:id`, this.guard(costs.v2Get), (req, res) => this.getOne(name, req, res));
      this.post(`/api/v2/${plural}`, this.guard(costs.v2Write), (req, res) => this.create(name, req, res));
      this.patch(`/api/v2/${plural}/:id`, this.guard(costs.v2Write), (req, res) =>
        this.update(name, req, res),
      );
      this.delete(`/api/v2/${plural}/:id`, this.guard(costs.v2Write), (req, res) =>
        this.remove(name, req, res),
      );
    }
    // v1 lives at api.pipedrive.com/v1 and at {api_domain}/api/v1; both prefixes are served.
    for (const prefix of ['/v1', '/api/v1']) {
      // https://developers.pipedrive.com/docs/api/v1/PersonFields#getPersonFields
      this.get(`${prefix}/personFields`, this.guard(costs.v1), (req, res) =>
        res.json(this.personFieldCatalog.page(req.query)),
      );
      this.post(`${prefix}/personFields`, this.guard(costs.v1), (req, res) =>
        this.createField(this.personFieldCatalog, req, res),
      );
      // https://developers.pipedrive.com/docs/api/v1/OrganizationFields#getOrganizationFields
      this.get(`${prefix}/organizationFields`, this.guard(costs.v1), (req, res) =>
        res.json(this.organizationFieldCatalog.page(req.query)),
      );
      this.post(`${prefix}/organizationFields`, this.guard(costs.v1), (req, res) =>
        this.createField(this.organizationFieldCatalog, req, res),
      );
      // https://developers.pipedrive.com/docs/api/v1/Users#getCurrentUser (company_id identifies the account)
      this.get(`${prefix}/users/me`, this.guard(costs.v1), (_req, res) => this.currentUser(res));
      // https://developers.pipedrive.com/docs/api/v1/Webhooks
      this.get(`${prefix}/webhooks`, this.guard(costs.v1), (_req, res) => this.listWebhooks(res));
      this.post(`${prefix}/webhooks`, this.guard(costs.v1), (req, res) => this.createWebhook(req, res));
      this.delete(`${prefix}/webhooks/:id`, this.guard(costs.v1), (req, res) => this.deleteWebhook(req, res));
      // https://developers.pipedrive.com/docs/api/v1/Persons#mergePersons (and Organizations#mergeOrganizations)
      for (const plural of ['persons', 'organizations'] as const) {
        this.put(`${prefix}/${plural}/:id/merge`, this.guard(costs.v1), (req, res) => {
          const into = Number((req.body as { merge_with_id?: unknown } | undefined)?.merge_with_id);
          if (!Number.isInteger(into) || into <= 0)
            throw new PipedriveHttpError(400, 'merge_with_id is required', { status: 'error' });
          const merged = this.merge(plural, String(req.params.id), String(into), 'api');
          res.json({ success: true, data: { ...merged, merge_what_id: Number(req.params.id) } });
        });
      }
    }
  }

  /** Authenticates (OAuth bearer or personal API token), charges the rate limiter and sets its headers. */
  private guard(cost: number): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const account = this.authenticateApiRequest(req);
      if (account === undefined) {
        // https://pipedrive.readme.io/docs/core-api-concepts-http-status-codes (401 Unauthorized)
        return void sendReply(
          res,
          PipedriveSandbox.errorReply(401, 'unauthorized access', { errorCode: 401 }),
        );
      }
      const decision = this.rateLimiter.take(account.id, cost);
      // https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting
      for (const [name, value] of Object.entries(this.rateLimitHeaders(decision))) res.setHeader(name, value);
      if (!decision.allowed) {
        const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        res.setHeader('retry-after', String(retryAfter));
        const message =
          decision.reason === 'daily' ? 'Daily API token budget exceeded' : 'Request over limit';
        return void sendReply(res, PipedriveSandbox.errorReply(429, message, { errorCode: 429 }));
      }
      res.locals.account = account;
      next();
    };
  }

  private authenticateApiRequest(req: Request): OAuthAccount | undefined {
    const apiToken = req.headers['x-api-token'] ?? req.query.api_token;
    if (typeof apiToken === 'string') return apiToken === this.apiToken ? this.oauth.accounts[0] : undefined;
    const auth = this.oauth.authenticateRequest(req);
    return typeof auth === 'string' ? undefined : auth.account;
  }

  private rateLimitHeaders(
    decision: RateLimitDecision | undefined,
    retryAfterSeconds?: number,
  ): Record<string, string> {
    const config = this.rateLimiter.config;
    const windowSeconds = Math.ceil((config.windowMs ?? 2000) / 1000);
    const limit = decision?.limit ?? config.limit ?? 80;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(Number.isFinite(limit) ? limit : 80),
      'x-ratelimit-remaining': String(
        decision ? (Number.isFinite(decision.remaining) ? decision.remaining : limit) : 0,
      ),
      'x-ratelimit-reset': String(
        retryAfterSeconds ??
          (decision && decision.resetMs > 0 ? Math.ceil(decision.resetMs / 1000) : windowSeconds),
      ),
    };
    return headers;
  }

  private list(name: PipedriveObjectName, req: Request, res: Response): void {
    const spec = this.specs[name] as unknown as ObjectSpec<StoredRecord>;
    const query = parseOrThrow(listQuerySchema, req.query);
    const limit = query.limit ?? 100;
    const sortBy = query.sort_by ?? 'id';
    const direction = query.sort_direction ?? 'asc';
    const sortKey = spec.sortFields[sortBy];
    if (!sortKey)
      throw new ValidationError(`sort_by: must be one of ${Object.keys(spec.sortFields).join(', ')}`);
    const since =
      query.updated_since === undefined ? undefined : parseRfc3339('updated_since', query.updated_since);
    const until =
      query.updated_until === undefined ? undefined : parseRfc3339('updated_until', query.updated_until);
    const ids = query.ids === undefined ? undefined : new Set(query.ids.split(',').map((id) => id.trim()));
    if (ids && ids.size > 100) throw new ValidationError('ids: at most 100 ids are allowed');
    let position: ListPosition | undefined;
    if (query.cursor !== undefined) {
      position = decodeCursor<ListPosition>(query.cursor);
      if (!position || position.s !== sortBy || position.d !== direction || typeof position.id !== 'number')
        throw new ValidationError('cursor: invalid cursor');
    }
    const sign = direction === 'desc' ? -1 : 1;
    const sorted = this.sortedView(spec, sortBy, direction);
    // Keyset paging: start after the (sort value, id) of the previous page's last record.
    let index = 0;
    if (position !== undefined) {
      const cursorAt = position;
      let low = 0;
      let high = sorted.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        const record = sorted[mid];
        const after =
          sign * (compareKeys(sortKey(record), cursorAt.v) || Number(record.id) - cursorAt.id) > 0;
        if (after) high = mid;
        else low = mid + 1;
      }
      index = low;
    }
    const matches: StoredRecord[] = [];
    for (; index < sorted.length && matches.length <= limit; index++) {
      const record = sorted[index];
      if (
        (since === undefined || record.updateTimeMs >= since) &&
        (until === undefined || record.updateTimeMs < until) &&
        (ids === undefined || ids.has(record.id)) &&
        spec.filter(record, query)
      )
        matches.push(record);
    }
    const page = matches.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor =
      matches.length > limit && last
        ? encodeCursor({
            s: sortBy,
            d: direction,
            v: sortKey(last),
            id: Number(last.id),
          } satisfies ListPosition)
        : null;
    res.json({
      success: true,
      data: this.projectCustomFields(
        page.map((record) => this.withIncludedFields(name, record, spec.toApi(record), query.include_fields)),
        query.custom_fields,
      ),
      additional_data: { next_cursor: nextCursor },
    });
  }

  /** Pipedrive stores add_time/update_time with second precision. */
  private nowToTheSecond(): number {
    return Math.floor(this.clock.nowMs() / 1000) * 1000;
  }

  /** All records of `spec` sorted by (sortBy, id) in `direction`; rebuilt only after the store changed. */
  private sortedView(
    spec: ObjectSpec<StoredRecord>,
    sortBy: string,
    direction: 'asc' | 'desc',
  ): StoredRecord[] {
    const cacheKey = `${spec.name}:${sortBy}:${direction}`;
    const cached = this.sortedViews.get(cacheKey);
    if (cached && cached.version === spec.store.version) return cached.records;
    const sortKey = spec.sortFields[sortBy];
    const sign = direction === 'desc' ? -1 : 1;
    const records = spec.store
      .all()
      .sort((a, b) => sign * (compareKeys(sortKey(a), sortKey(b)) || Number(a.id) - Number(b.id)));
    this.sortedViews.set(cacheKey, { version: spec.store.version, records });
    return records;
  }

  private getOne(name: PipedriveObjectName, req: Request, res: Response): void {
    const record = this.findOrThrow(name, req.params.id);
    const customFields = typeof req.query.custom_fields === 'string' ? req.query.custom_fields : undefined;
    const include = typeof req.query.include_fields === 'string' ? req.query.include_fields : undefined;
    const api = this.withIncludedFields(name, record, this.apiOf(name, record), include);
    res.json({ success: true, data: this.projectCustomFields([api], customFields)[0] });
  }

  /**
   * The additional fields `include_fields` asks for that this sandbox keeps: a person's `marketing_status` (its
   * accounts use Campaigns; a person without one reads `no_consent`, as Pipedrive answers).
   */
  private withIncludedFields(
    name: PipedriveObjectName,
    record: StoredRecord,
    api: Record<string, unknown>,
    include: string | undefined,
  ): Record<string, unknown> {
    const wanted = new Set((include ?? '').split(',').map((field) => field.trim()));
    if (name !== 'person' || !wanted.has('marketing_status')) return api;
    return { ...api, marketing_status: (record as PersonRecord).marketing_status ?? 'no_consent' };
  }

  private create(name: PipedriveObjectName, req: Request, res: Response): void {
    const spec = this.specs[name] as unknown as ObjectSpec<StoredRecord>;
    const fields = spec.create(req.body ?? {}, res.locals.account as OAuthAccount);
    this.failIfRecordFault(name, req.body);
    const record = this.insertRecord(name, fields, this.nowToTheSecond());
    this.emitChange(name, 'create', record, null, 'api');
    res.json({ success: true, data: spec.toApi(record) });
  }

  private update(name: PipedriveObjectName, req: Request, res: Response): void {
    const current = this.findOrThrow(name, req.params.id);
    this.failIfRecordFault(name, { ...(req.body as object), id: Number(current.id) });
    res.json({ success: true, data: this.applyUpdate(name, current, req.body ?? {}, 'api') });
  }

  private remove(name: PipedriveObjectName, req: Request, res: Response): void {
    const current = this.findOrThrow(name, req.params.id);
    this.applyDelete(name, current, 'api');
    res.json({ success: true, data: { id: Number(current.id) } });
  }

  /**
   * GET /api/v2/persons/search and /api/v2/organizations/search:
   * https://developers.pipedrive.com/docs/api/v1/Persons#searchPersons and ...Organizations#searchOrganization (v2).
   */
  private search(name: 'person' | 'organization', req: Request, res: Response): void {
    const query = parseOrThrow(searchQuerySchema, req.query);
    const exact = query.exact_match === 'true' || query.exact_match === '1';
    const term = query.term.trim().toLowerCase();
    if (term.length < (exact ? 1 : 2))
      throw new ValidationError('term: Search term must be at least 2 characters long');
    const defaultFields =
      name === 'person' ? 'custom_fields,email,notes,phone,name' : 'address,custom_fields,notes,name';
    const fields = new Set((query.fields ?? defaultFields).split(',').map((f) => f.trim()));
    const score = (texts: Array<string | null | undefined>): number => {
      let best = 0;
      for (const text of texts) {
        if (!text) continue;
        const value = text.toLowerCase();
        if (value === term) return 1;
        if (!exact && value.includes(term)) best = 0.5;
      }
      return best;
    };
    const stringValues = (values: Record<string, unknown>) => searchableCustomValues(values);
    const scored: Array<{ record: PersonRecord | OrganizationRecord; score: number }> = [];
    // An exact search of indexed values only (e-mails, custom fields) reads the indexes, not every record.
    const indexed = name === 'person' ? [EMAIL_INDEX, CUSTOM_FIELDS_INDEX] : [CUSTOM_FIELDS_INDEX];
    if (exact && [...fields].every((field) => indexed.includes(field))) {
      const store = name === 'person' ? this.persons : this.organizations;
      const found = new Map<string, PersonRecord | OrganizationRecord>();
      for (const field of fields) {
        for (const record of store.lookup(field, term)) found.set(record.id, record);
      }
      for (const record of found.values()) {
        if (
          name === 'person' &&
          query.organization_id !== undefined &&
          (record as PersonRecord).org_id !== query.organization_id
        )
          continue;
        scored.push({ record, score: 1 });
      }
    } else if (name === 'person') {
      for (const record of this.persons.values()) {
        if (query.organization_id !== undefined && record.org_id !== query.organization_id) continue;
        const texts: Array<string | null | undefined> = [];
        if (fields.has('name')) texts.push(record.name);
        if (fields.has('email')) texts.push(...record.emails.map((e) => e.value));
        if (fields.has('phone')) texts.push(...record.phones.map((p) => p.value));
        if (fields.has('notes')) texts.push(record.notes);
        if (fields.has('custom_fields')) texts.push(...stringValues(record.custom_fields));
        const value = score(texts);
        if (value > 0) scored.push({ record, score: value });
      }
    } else {
      for (const record of this.organizations.values()) {
        const texts: Array<string | null | undefined> = [];
        if (fields.has('name')) texts.push(record.name);
        if (fields.has('address')) texts.push(record.address?.value);
        if (fields.has('custom_fields')) texts.push(...stringValues(record.custom_fields));
        const value = score(texts);
        if (value > 0) scored.push({ record, score: value });
      }
    }
    scored.sort((a, b) => b.score - a.score || Number(a.record.id) - Number(b.record.id));
    const limit = query.limit ?? 100;
    const start =
      query.cursor === undefined ? 0 : (decodeCursor<{ offset: number }>(query.cursor)?.offset ?? -1);
    if (!Number.isInteger(start) || start < 0) throw new ValidationError('cursor: invalid cursor');
    const items = scored.slice(start, start + limit).map(({ record, score: resultScore }) => ({
      result_score: resultScore,
      item:
        name === 'person'
          ? this.personSearchItem(record as PersonRecord)
          : this.organizationSearchItem(record as OrganizationRecord),
    }));
    const nextCursor = start + limit < scored.length ? encodeCursor({ offset: start + limit }) : null;
    res.json({ success: true, data: { items }, additional_data: { next_cursor: nextCursor } });
  }

  private personSearchItem(record: PersonRecord): ApiRecord {
    const org = record.org_id === null ? undefined : this.organizations.get(String(record.org_id));
    return {
      id: Number(record.id),
      type: 'person',
      name: record.name,
      phones: record.phones.map((p) => p.value),
      emails: record.emails.map((e) => e.value),
      visible_to: record.visible_to,
      owner: { id: record.owner_id },
      organization: org ? { id: Number(org.id), name: org.name, address: org.address?.value ?? null } : null,
      custom_fields: Object.values(record.custom_fields).filter((v): v is string => typeof v === 'string'),
      notes: record.notes ? [record.notes] : [],
    };
  }

  private organizationSearchItem(record: OrganizationRecord): ApiRecord {
    return {
      id: Number(record.id),
      type: 'organization',
      name: record.name,
      address: record.address?.value ?? null,
      visible_to: record.visible_to,
      owner: { id: record.owner_id },
      custom_fields: Object.values(record.custom_fields).filter((v): v is string => typeof v === 'string'),
      notes: [],
    };
  }

  /** `custom_fields=key1,key2` on list/get: only those custom field keys are returned (at most 15). */
  private projectCustomFields(records: ApiRecord[], keys: string | undefined): ApiRecord[] {
    if (keys === undefined) return records;
    const wanted = keys
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    if (wanted.length > 15) throw new ValidationError('custom_fields: A maximum of 15 keys is allowed');
    return records.map((record) => {
      const custom = (record.custom_fields ?? {}) as Record<string, unknown>;
      return {
        ...record,
        custom_fields: Object.fromEntries(wanted.filter((k) => k in custom).map((k) => [k, custom[k]])),
      };
    });
  }

  private createField(catalog: PipedriveFieldCatalog, req: Request, res: Response): void {
    const body = parseOrThrow(personFieldBodySchema, req.body ?? {});
    const field = catalog.add(
      body.name,
      body.field_type,
      (body.options ?? []).map((o) => o.label),
    );
    res.json({ success: true, data: field });
  }

  private webhookToApi(subscription: WebhookSubscription): ApiRecord {
    const meta = subscription.meta ?? {};
    return {
      id: Number(subscription.id),
      company_id: this.companyId,
      owner_id: meta.owner_id,
      user_id: meta.user_id,
      event_action: meta.event_action,
      event_object: meta.event_object,
      subscription_url: subscription.url,
      is_active: 1,
      add_time: v1Time(subscription.createdAt.getTime()),
      remove_time: null,
      type: 'general',
      http_auth_user: subscription.auth?.username ?? null,
      http_auth_password: subscription.auth?.password ?? null,
      remove_reason: null,
      last_delivery_time: null,
      last_http_status: null,
      admin_id: meta.owner_id,
      name: meta.name ?? null,
      version: '2.0',
    };
  }

  /** GET /v1/users/me: the authorized user and the company (account) the token belongs to. */
  private currentUser(res: Response): void {
    const account = res.locals.account as OAuthAccount;
    res.json({
      success: true,
      data: {
        id: Number(account.userId ?? 1),
        name: account.userName ?? 'Demo Admin',
        email: account.userEmail ?? null,
        company_id: Number(account.id),
        company_name: account.name ?? null,
        company_domain: new URL(this.baseUrl).hostname,
        locale: 'en_US',
        timezone_name: 'UTC',
        active_flag: true,
        is_admin: 1,
      },
    });
  }

  private listWebhooks(res: Response): void {
    res.json({
      success: true,
      status: 'ok',
      data: this.webhooks.subscriptions().map((s) => this.webhookToApi(s)),
    });
  }

  private createWebhook(req: Request, res: Response): void {
    const parsed = webhookBodySchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      // Webhooks answer validation failures with an `errors` object per field.
      const errors: Record<string, string[]> = {};
      for (const issue of parsed.error.issues)
        (errors[String(issue.path[0] ?? 'body')] ??= []).push(issue.message);
      return void sendReply(
        res,
        PipedriveSandbox.errorReply(400, 'Validation failed', { status: 'error', errors }),
      );
    }
    const body = parsed.data;
    if (body.version === '1.0')
      throw new PipedriveHttpError(400, 'The sandbox delivers webhooks version 2.0 only; send version "2.0"');
    const account = res.locals.account as OAuthAccount;
    const subscription = this.webhooks.subscribe({
      id: String(this.nextIds.webhook++),
      url: body.subscription_url,
      events: [`${body.event_action}.${body.event_object}`],
      auth: body.http_auth_user
        ? { type: 'basic', username: body.http_auth_user, password: body.http_auth_password ?? '' }
        : undefined,
      meta: {
        event_action: body.event_action,
        event_object: body.event_object,
        user_id: body.user_id ?? Number(account.userId),
        owner_id: Number(account.userId),
        name: body.name,
      },
    });
    res.status(201).json({ success: true, status: 'ok', data: this.webhookToApi(subscription) });
  }

  private deleteWebhook(req: Request, res: Response): void {
    if (!this.webhooks.unsubscribe(String(req.params.id)))
      throw new PipedriveHttpError(404, 'Webhook not found', { status: 'error' });
    res.json({ success: true, status: 'ok' });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Record logic shared by the API routes and the staging helpers

  private insertRecord<K extends PipedriveObjectName>(
    name: K,
    fields: Omit<StoredRecordOf<K>, 'id' | 'addTimeMs' | 'updateTimeMs'> & { add_time?: string },
    stampMs: number,
  ): StoredRecordOf<K> {
    const { add_time: addTime, ...rest } = fields;
    const addTimeMs = addTime === undefined ? stampMs : parseRfc3339('add_time', addTime);
    const record = {
      ...rest,
      id: String(this.nextIds[name]++),
      addTimeMs,
      updateTimeMs: stampMs,
    } as StoredRecordOf<K>;
    (this.specs[name].store as RecordStore<StoredRecordOf<K>>).insert(record);
    return record;
  }

  private applyUpdate(
    name: PipedriveObjectName,
    current: StoredRecord,
    body: unknown,
    source: 'api' | 'app',
  ): ApiRecord {
    const spec = this.specs[name] as unknown as ObjectSpec<StoredRecord>;
    const patch = spec.patch(current, body);
    const updated = spec.store.update(current.id, { ...patch, updateTimeMs: this.nowToTheSecond() });
    if (!updated) throw new PipedriveHttpError(404, `${spec.label} not found`);
    const before = spec.toApi(current);
    const after = spec.toApi(updated);
    const previous: ApiRecord = {};
    for (const key of Object.keys(after))
      if (key !== 'update_time' && JSON.stringify(before[key]) !== JSON.stringify(after[key]))
        previous[key] = before[key];
    this.emitChange(name, 'change', updated, previous, source);
    return after;
  }

  private applyDelete(name: PipedriveObjectName, current: StoredRecord, source: 'api' | 'app'): void {
    const spec = this.specs[name] as unknown as ObjectSpec<StoredRecord>;
    const before = spec.toApi(current);
    spec.store.delete(current.id);
    this.emitChange(name, 'delete', undefined, before, source);
  }

  /** Sends the v2.0 webhook payload: https://pipedrive.readme.io/docs/guide-for-webhooks-v2 */
  private emitChange(
    name: PipedriveObjectName,
    action: 'create' | 'change' | 'delete',
    record: StoredRecord | undefined,
    previous: ApiRecord | null,
    source: 'api' | 'app',
  ): void {
    if (this.webhooks.subscriptions().length === 0) return;
    const data = record ? this.apiOf(name, record) : null;
    const entityId = String(record?.id ?? (previous as { id?: number } | null)?.id ?? '');
    const timestamp = this.clock.now().toISOString();
    const correlationId = randomUUID();
    // One id per event: a retry or a duplicated delivery carries the same one, as Pipedrive's do.
    const eventId = randomUUID();
    const host = this.started ? new URL(this.baseUrl).host : 'sandbox.pipedrive.local';
    void this.webhooks.emit({
      type: `${action}.${name}`,
      payload: (subscription, attempt) => ({
        data,
        previous,
        meta: {
          action,
          entity: name,
          entity_id: entityId,
          company_id: String(this.companyId),
          correlation_id: correlationId,
          id: eventId,
          is_bulk_edit: false,
          timestamp,
          type: 'general',
          user_id: String(subscription.meta?.user_id ?? 1),
          permitted_user_ids: [String(subscription.meta?.user_id ?? 1)],
          change_source: source,
          host,
          webhook_id: subscription.id,
          webhook_owner_id: String(subscription.meta?.owner_id ?? 1),
          version: '2.0',
          attempt,
        },
      }),
    });
  }

  private failIfRecordFault(name: PipedriveObjectName, body: unknown): void {
    const fault = this.faults.recordError(this.specs[name].plural, (body ?? {}) as Record<string, unknown>);
    if (fault) throw new ValidationError(`${fault.field ?? 'body'}: ${fault.message}`);
  }

  private findOrThrow(name: PipedriveObjectName, id: string | string[] | undefined): StoredRecord {
    const spec = this.specs[name] as unknown as ObjectSpec<StoredRecord>;
    if (typeof id !== 'string' || !/^\d+$/.test(id))
      throw new ValidationError('id: Expected number, received string');
    const record = spec.store.get(String(Number(id)));
    if (!record) throw new PipedriveHttpError(404, `${spec.label} not found`);
    return record;
  }

  private apiOf(name: PipedriveObjectName, record: StoredRecord): ApiRecord {
    return (this.specs[name] as unknown as ObjectSpec<StoredRecord>).toApi(record);
  }

  private spec(object: PipedriveObject): ObjectSpec<StoredRecord> {
    const name: PipedriveObjectName =
      object === 'persons'
        ? 'person'
        : object === 'organizations'
          ? 'organization'
          : object === 'activities'
            ? 'activity'
            : object;
    const spec = this.specs[name];
    if (!spec) throw new Error(`pipedrive sandbox: unknown object ${object}`);
    return spec as unknown as ObjectSpec<StoredRecord>;
  }

  private createFieldCatalogs(): void {
    const account = {
      companyId: this.companyId,
      nextFieldId: () => this.nextIds.field++,
      nowMs: () => this.clock.nowMs(),
    };
    const nowMs = this.clock.nowMs();
    this.personFieldCatalog = new PipedriveFieldCatalog('person', account, standardPersonFields(nowMs));
    this.organizationFieldCatalog = new PipedriveFieldCatalog(
      'organization',
      account,
      standardOrganizationFields(nowMs),
    );
    // Two custom person fields so connectors see real 40-hex keys from the start.
    this.addPersonField('Lead source', 'enum', ['Website', 'Referral', 'Cold outreach', 'Event']);
    this.addPersonField('LinkedIn profile', 'varchar');
  }

  /** Pipedrive's error body (kept as a static for callers of the class). */
  static errorReply(status: number, error: string, extra: Record<string, unknown> = {}): FaultResponse {
    return pipedriveErrorReply(status, error, extra);
  }
}

export function createPipedriveSandbox(options: PipedriveSandboxOptions = {}): PipedriveSandbox {
  return new PipedriveSandbox(options);
}
