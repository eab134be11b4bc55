import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CrmError, CrmErrorCode } from '../errors';
import type { IntegrationPort } from '../integration-port';
import type { DefaultFieldMappings } from '../field-mapping';
import { normaliseCompanyName, normaliseDomain, type DefaultCompanyMappings } from '../company-mapping';
import type {
  ActivityInput,
  ActivityResult,
  AssociateRecordsRequest,
  AssociateResult,
  AuthorizeUrlRequest,
  ChangePage,
  CodeExchangeRequest,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  DeletedRecord,
  DeleteRecordsRequest,
  DeleteResult,
  FieldDescriptor,
  FindCompaniesRequest,
  GetRecordsRequest,
  IdPage,
  ListIdsRequest,
  ReadChangesRequest,
  RecordError,
  RegisteredWebhooks,
  RegisterWebhooksRequest,
  SyncCursor,
  TokenSet,
  UpsertBatchRequest,
  UpsertResult,
  WebhookEvent,
  WebhookRequest,
  WebhookSecrets,
} from '../types';

/**
 * A small but honest CRM in memory, and the connector for it. The CRM (`InMemoryCrm`) has its own store, OAuth with
 * PKCE and rotating refresh tokens, per-record validation and signed webhooks; tests stage data through it directly.
 * The connector (`InMemoryConnector`) speaks to it only through the `IntegrationPort` contract. It serves the engine's
 * unit tests and proves the contract kit itself (`in-memory-connector.spec.ts`).
 */

export const IN_MEMORY_PROVIDER = 'in-memory';
const SIGNATURE_HEADER = 'x-inmemory-signature';
const TIMESTAMP_HEADER = 'x-inmemory-request-timestamp';
/** Webhooks older than this are replays (HubSpot uses the same five minutes). */
const WEBHOOK_MAX_AGE_MS = 5 * 60_000;
const ACCESS_TOKEN_TTL_MS = 3_600_000;

interface FieldSchema {
  descriptor: FieldDescriptor;
  /** Returns the CRM's message when the value is not acceptable. */
  validate?: (value: unknown) => string | undefined;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function field(
  name: string,
  label: string,
  type: FieldDescriptor['type'],
  extra: Partial<FieldDescriptor> = {},
  validate?: FieldSchema['validate'],
): FieldSchema {
  return {
    descriptor: {
      name,
      label,
      type,
      crmType: type.toUpperCase(),
      required: false,
      readOnly: false,
      custom: false,
      ...extra,
    },
    validate,
  };
}

const text =
  (max: number) =>
  (value: unknown): string | undefined =>
    value === null || (typeof value === 'string' && value.length <= max)
      ? undefined
      : `Value must be text of at most ${max} characters`;

const LIFECYCLE_STAGES = ['subscriber', 'lead', 'customer'];

const SCHEMAS: Readonly<
  Record<string, { label: string; fields: FieldSchema[]; emailField?: string; required: string[] }>
> = {
  contacts: {
    label: 'Contacts',
    emailField: 'email',
    required: ['email'],
    fields: [
      field('email', 'Email', 'email', { required: true }, (value) =>
        typeof value === 'string' && EMAIL_PATTERN.test(value)
          ? undefined
          : `Email address ${String(value)} is invalid`,
      ),
      field('firstname', 'First name', 'string', {}, text(80)),
      field('lastname', 'Last name', 'string', {}, text(80)),
      field('phone', 'Phone', 'phone', {}, text(40)),
      field('company', 'Company name', 'string', {}, text(120)),
      field(
        'lifecyclestage',
        'Lifecycle stage',
        'picklist',
        { options: LIFECYCLE_STAGES.map((value) => ({ value, label: value })) },
        (value) =>
          value === null || LIFECYCLE_STAGES.includes(String(value))
            ? undefined
            : `${String(value)} is not a valid lifecycle stage`,
      ),
    ],
  },
  companies: {
    label: 'Companies',
    required: ['name'],
    fields: [
      field('name', 'Name', 'string', { required: true }, (value) =>
        typeof value === 'string' && value.trim() !== '' ? undefined : 'Name is required',
      ),
      field('domain', 'Domain', 'url', {}, text(253)),
      // A tenant's own company fields, for company mappings with custom fields.
      field('tier', 'Tier', 'string', { custom: true }, text(80)),
      field('region', 'Region', 'string', { custom: true }, text(80)),
      field('owner', 'Owner', 'string', { custom: true }, text(80)),
    ],
  },
};

const READ_ONLY_FIELDS: FieldDescriptor[] = [
  {
    name: 'id',
    label: 'Record ID',
    type: 'id',
    crmType: 'ID',
    required: false,
    readOnly: true,
    custom: false,
  },
  {
    name: 'createdate',
    label: 'Created',
    type: 'datetime',
    crmType: 'DATETIME',
    required: false,
    readOnly: true,
    custom: false,
  },
  {
    name: 'lastmodifieddate',
    label: 'Last modified',
    type: 'datetime',
    crmType: 'DATETIME',
    required: false,
    readOnly: true,
    custom: false,
  },
];

interface StoredRecord {
  id: string;
  object: string;
  createdAt: string;
  modifiedAt: string;
  fields: Record<string, unknown>;
}

export interface StoredActivity {
  crmId: string;
  input: ActivityInput;
  loggedAt: string;
}

interface PendingCode {
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
}

export interface InMemoryCrmOptions {
  /** The CRM's clock; default the real time. Staging may also stamp each change explicitly. */
  now?: () => Date;
  clientId?: string;
  clientSecret?: string;
  accountId?: string;
}

/** Position of an entry in the change stream: (time, numeric id). */
interface StreamPosition {
  at: number;
  id: number;
}

function comparePositions(a: StreamPosition, b: StreamPosition): number {
  return a.at - b.at || a.id - b.id;
}

function instantMs(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `${what} is not a valid timestamp: ${value}`, {
      provider: IN_MEMORY_PROVIDER,
    });
  }
  return ms;
}

/** The CRM itself: storage, tokens and the rules it enforces. Tests stage and inspect data here. */
export class InMemoryCrm {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accountId: string;
  private readonly clock: () => Date;
  private nextId = 1;
  private readonly records = new Map<string, Map<string, StoredRecord>>(
    Object.keys(SCHEMAS).map((object) => [object, new Map()]),
  );
  private readonly tombstones: DeletedRecord[] = [];
  /** Associations by `object:id`, then by associated object: a contact's company. */
  private readonly links = new Map<string, Record<string, string[]>>();
  private readonly activityLog = new Map<string, StoredActivity>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();

  constructor(options: InMemoryCrmOptions = {}) {
    this.clock = options.now ?? (() => new Date());
    this.clientId = options.clientId ?? 'in-memory-client';
    this.clientSecret = options.clientSecret ?? 'in-memory-client-secret';
    this.accountId = options.accountId ?? 'in-memory-account-1';
  }

  now(): string {
    return this.clock().toISOString();
  }

  objectNames(): string[] {
    return Object.keys(SCHEMAS);
  }

  schema(object: string): (typeof SCHEMAS)[string] {
    const schema = SCHEMAS[object];
    if (schema === undefined) {
      throw new CrmError(CrmErrorCode.NOT_FOUND, `Object type ${object} does not exist`, {
        status: 404,
        provider: IN_MEMORY_PROVIDER,
      });
    }
    return schema;
  }

  // ---- Records (staging and the connector use the same rules) ----

  /** The first problem the CRM finds with `fields` for a create (`existing` absent) or an update. */
  validate(
    object: string,
    fields: Record<string, unknown>,
    existing?: StoredRecord,
  ): RecordError | undefined {
    const schema = this.schema(object);
    for (const [name, value] of Object.entries(fields)) {
      const definition = schema.fields.find((candidate) => candidate.descriptor.name === name);
      if (definition === undefined) {
        const readOnly = READ_ONLY_FIELDS.some((candidate) => candidate.name === name);
        return {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: readOnly ? `Property "${name}" is read-only` : `Property "${name}" does not exist`,
          field: name,
          crmCode: readOnly ? 'READ_ONLY_VALUE' : 'PROPERTY_DOESNT_EXIST',
        };
      }
      const message = definition.validate?.(value);
      if (message !== undefined) {
        return { code: CrmErrorCode.VALIDATION_FAILED, message, field: name, crmCode: 'INVALID_VALUE' };
      }
    }
    for (const required of schema.required) {
      const value = required in fields ? fields[required] : existing?.fields[required];
      if (value === undefined || value === null || value === '') {
        return {
          code: CrmErrorCode.VALIDATION_FAILED,
          message: `Required property "${required}" is missing`,
          field: required,
          crmCode: 'REQUIRED_FIELD_MISSING',
        };
      }
    }
    return undefined;
  }

  /** Creates a record; throws VALIDATION_FAILED when the CRM would reject it. `at` stamps creation and change. */
  createRecord(object: string, fields: Record<string, unknown>, at: string = this.now()): CrmRecord {
    const problem = this.validate(object, fields);
    if (problem) throw this.recordErrorToCrmError(problem);
    const stamp = new Date(instantMs(at, 'at')).toISOString();
    const record: StoredRecord = {
      id: String(this.nextId++),
      object,
      createdAt: stamp,
      modifiedAt: stamp,
      fields: { ...fields },
    };
    this.store(object).set(record.id, record);
    return this.toCrmRecord(record);
  }

  updateRecord(
    object: string,
    id: string,
    fields: Record<string, unknown>,
    at: string = this.now(),
  ): CrmRecord {
    const record = this.requireRecord(object, id);
    const problem = this.validate(object, fields, record);
    if (problem) throw this.recordErrorToCrmError(problem);
    Object.assign(record.fields, fields);
    record.modifiedAt = new Date(instantMs(at, 'at')).toISOString();
    return this.toCrmRecord(record);
  }

  deleteRecord(object: string, id: string, at: string = this.now()): void {
    this.requireRecord(object, id);
    this.store(object).delete(id);
    this.tombstones.push({ id, object, deletedAt: new Date(instantMs(at, 'at')).toISOString() });
  }

  /**
   * Removes a record behind the product's back, leaving no trace a change read reports (a purge, a restore from
   * backup, records lost with an account): what the reconcile has to notice.
   */
  purgeRecord(object: string, id: string): void {
    this.requireRecord(object, id);
    this.store(object).delete(id);
  }

  getRecord(object: string, id: string): CrmRecord | undefined {
    const record = this.store(object).get(id);
    return record && this.toCrmRecord(record);
  }

  listRecords(object: string): CrmRecord[] {
    return [...this.store(object).values()].map((record) => this.toCrmRecord(record));
  }

  /** Live records of `object` whose e-mail equals one of `emails`, compared case-insensitively as the CRM does. */
  recordsByEmail(object: string, emails: string[]): CrmRecord[] {
    const emailField = this.schema(object).emailField;
    if (emailField === undefined) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `Object type ${object} has no e-mail field`, {
        provider: IN_MEMORY_PROVIDER,
      });
    }
    const wanted = new Set(emails.map((email) => email.toLowerCase()));
    return [...this.store(object).values()]
      .filter((record) => {
        const value = record.fields[emailField];
        return typeof value === 'string' && wanted.has(value.toLowerCase());
      })
      .map((record) => this.toCrmRecord(record));
  }

  /** The change stream of `object`: live records by modification time and tombstones by deletion time. */
  changeStream(
    object: string,
  ): ({ kind: 'record'; record: StoredRecord } | { kind: 'deleted'; entry: DeletedRecord })[] {
    this.schema(object);
    const entries = [
      ...[...this.store(object).values()].map((record) => ({
        kind: 'record' as const,
        record,
        position: this.position(record.modifiedAt, record.id),
      })),
      ...this.tombstones
        .filter((entry) => entry.object === object)
        .map((entry) => ({
          kind: 'deleted' as const,
          entry,
          position: this.position(entry.deletedAt, entry.id),
        })),
    ];
    return entries.sort((a, b) => comparePositions(a.position, b.position));
  }

  /** Associates a record with one record of `toObject`, replacing the one it had (a contact has one company). */
  associate(object: string, id: string, toObject: string, toId: string): void {
    this.requireRecord(object, id);
    this.requireRecord(toObject, toId);
    const key = `${object}:${id}`;
    this.links.set(key, { ...this.links.get(key), [toObject]: [toId] });
  }

  /** Live companies whose name (case-insensitively) or domain is one of those given. */
  companiesMatching(object: string, names: string[], domains: string[]): CrmRecord[] {
    const wantedNames = new Set(names.map(normaliseCompanyName));
    const wantedDomains = new Set(domains.map(normaliseDomain));
    return [...this.store(object).values()]
      .filter(
        (record) =>
          wantedNames.has(normaliseCompanyName(record.fields.name)) ||
          (normaliseDomain(record.fields.domain) !== null &&
            wantedDomains.has(normaliseDomain(record.fields.domain))),
      )
      .map((record) => this.toCrmRecord(record));
  }

  position(at: string, id: string): StreamPosition {
    return { at: instantMs(at, 'timestamp'), id: Number(id) };
  }

  toCrmRecord(record: StoredRecord, fields?: string[]): CrmRecord {
    const selected =
      fields === undefined
        ? { ...record.fields }
        : Object.fromEntries(
            fields.filter((name) => name in record.fields).map((name) => [name, record.fields[name]]),
          );
    const associations = this.links.get(`${record.object}:${record.id}`);
    return {
      id: record.id,
      object: record.object,
      createdAt: record.createdAt,
      modifiedAt: record.modifiedAt,
      fields: selected,
      ...(associations ? { associations: structuredClone(associations) } : {}),
    };
  }

  storedRecord(object: string, id: string): StoredRecord | undefined {
    return this.store(object).get(id);
  }

  // ---- Activities ----

  logActivity(input: ActivityInput): StoredActivity {
    const existing = this.activityLog.get(input.key);
    if (existing) {
      // The same PenguinMails event delivered again: the CRM keeps one activity.
      return existing;
    }
    this.requireRecord(input.contact.object, input.contact.crmId);
    const activity: StoredActivity = { crmId: `activity-${this.nextId++}`, input, loggedAt: this.now() };
    this.activityLog.set(input.key, activity);
    return activity;
  }

  activities(): StoredActivity[] {
    return [...this.activityLog.values()];
  }

  // ---- OAuth ----

  /**
   * What the CRM's consent page does when the user clicks "Allow": checks the authorize URL's client and returns a
   * one-time code for its redirect URI.
   */
  approveAuthorization(authorizeUrl: string): { code: string; state: string | null; redirectUri: string } {
    const url = new URL(authorizeUrl);
    if (url.searchParams.get('client_id') !== this.clientId) {
      throw new CrmError(CrmErrorCode.PERMISSION_DENIED, 'invalid_client: unknown client_id', {
        provider: IN_MEMORY_PROVIDER,
      });
    }
    const redirectUri = url.searchParams.get('redirect_uri');
    if (!redirectUri) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'invalid_request: redirect_uri is required', {
        provider: IN_MEMORY_PROVIDER,
      });
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      redirectUri,
      scopes: (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean),
      codeChallenge: url.searchParams.get('code_challenge') ?? undefined,
    });
    return { code, state: url.searchParams.get('state'), redirectUri };
  }

  exchangeCode(request: CodeExchangeRequest): TokenSet {
    const pending = this.codes.get(request.code);
    this.codes.delete(request.code);
    if (!pending) throw invalidGrant('authorization code is invalid or was already used');
    if (pending.redirectUri !== request.redirectUri)
      throw invalidGrant('redirect_uri does not match the authorization request');
    if (pending.codeChallenge !== undefined) {
      const computed =
        request.codeVerifier && createHash('sha256').update(request.codeVerifier).digest('base64url');
      if (computed !== pending.codeChallenge)
        throw invalidGrant('code_verifier does not match the code_challenge');
    }
    return this.issueTokens(pending.scopes);
  }

  refresh(refreshToken: string): TokenSet {
    if (!this.refreshTokens.delete(refreshToken))
      throw invalidGrant('refresh token is invalid, expired or revoked');
    return this.issueTokens([]);
  }

  revoke(token: string): void {
    this.accessTokens.delete(token);
    this.refreshTokens.delete(token);
  }

  /** Makes an access token expire now, as if its hour had passed. */
  expireAccessToken(token: string): void {
    if (this.accessTokens.has(token)) this.accessTokens.set(token, 0);
  }

  /** Throws AUTH_EXPIRED unless `token` is a live access token. */
  authenticate(token: string): void {
    const expiresAt = this.accessTokens.get(token);
    if (expiresAt === undefined || expiresAt <= this.clock().getTime()) {
      throw new CrmError(CrmErrorCode.AUTH_EXPIRED, 'Session expired or invalid', {
        status: 401,
        crmCode: 'INVALID_SESSION_ID',
        provider: IN_MEMORY_PROVIDER,
      });
    }
  }

  private issueTokens(scopes: string[]): TokenSet {
    const accessToken = `imat-${randomBytes(16).toString('hex')}`;
    const refreshToken = `imrt-${randomBytes(16).toString('hex')}`;
    const expiresAt = new Date(this.clock().getTime() + ACCESS_TOKEN_TTL_MS);
    this.accessTokens.set(accessToken, expiresAt.getTime());
    this.refreshTokens.add(refreshToken);
    return {
      accessToken,
      refreshToken,
      expiresAt,
      scope: scopes.join(' ') || undefined,
      account: { id: this.accountId, name: 'In-memory CRM account' },
    };
  }

  private store(object: string): Map<string, StoredRecord> {
    this.schema(object);
    return this.records.get(object) as Map<string, StoredRecord>;
  }

  private requireRecord(object: string, id: string): StoredRecord {
    const record = this.store(object).get(id);
    if (!record) {
      throw new CrmError(CrmErrorCode.NOT_FOUND, `${object} ${id} does not exist`, {
        status: 404,
        provider: IN_MEMORY_PROVIDER,
      });
    }
    return record;
  }

  private recordErrorToCrmError(problem: RecordError): CrmError {
    return new CrmError(problem.code, problem.message, {
      status: 400,
      field: problem.field,
      crmCode: problem.crmCode,
      provider: IN_MEMORY_PROVIDER,
    });
  }
}

function invalidGrant(description: string): CrmError {
  return new CrmError(CrmErrorCode.AUTH_REVOKED, `invalid_grant: ${description}`, {
    status: 400,
    crmCode: 'invalid_grant',
    provider: IN_MEMORY_PROVIDER,
  });
}

/** The signature the in-memory CRM puts on a webhook: base64(HMAC-SHA256(secret, method + url + body + timestamp)). */
export function signInMemoryWebhook(
  secret: string,
  method: string,
  url: string,
  rawBody: Buffer,
  timestampMs: number,
): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${url}${rawBody.toString('utf8')}${timestampMs}`)
    .digest('base64');
}

/** A webhook request as the in-memory CRM sends it, signed with `secret`. */
export function buildInMemoryWebhookRequest(
  events: WebhookEvent[],
  secret: string,
  options: { url?: string; sentAt?: Date; receivedAt?: Date } = {},
): WebhookRequest {
  const url = options.url ?? 'https://app.example.test/webhooks/in-memory';
  const sentAt = (options.sentAt ?? new Date()).getTime();
  const rawBody = Buffer.from(JSON.stringify(events));
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signInMemoryWebhook(secret, 'POST', url, rawBody, sentAt),
      [TIMESTAMP_HEADER]: String(sentAt),
    },
    rawBody,
    receivedAt: options.receivedAt ?? new Date(sentAt),
  };
}

interface PageToken {
  object: string;
  since: SyncCursor | null;
  after: StreamPosition;
}

/**
 * The in-memory CRM's contacts mapped like HubSpot's (it has no job title): the company is the first associated
 * company's name where the contact reports one, else its own `company` property.
 */
export const IN_MEMORY_DEFAULT_MAPPINGS: DefaultFieldMappings = {
  contacts: {
    object: 'contacts',
    emailField: 'email',
    fields: [
      { local: 'email', crm: 'email', direction: 'both', codec: 'email' },
      { local: 'firstName', crm: 'firstname', direction: 'both', codec: 'text' },
      { local: 'lastName', crm: 'lastname', direction: 'both', codec: 'text' },
      {
        local: 'company',
        crm: 'company',
        associated: { object: 'companies', field: 'name' },
        direction: 'both',
        codec: 'text',
      },
      { local: 'phone', crm: 'phone', direction: 'both', codec: 'text' },
      { local: 'lifecycleStage', crm: 'lifecyclestage', direction: 'both', codec: 'text' },
    ],
  },
};

/** The in-memory CRM's companies: a name and a domain, matched by either; contacts associate with them. */
export const IN_MEMORY_DEFAULT_COMPANY_MAPPINGS: DefaultCompanyMappings = {
  companies: {
    object: 'companies',
    fields: [
      { local: 'name', crm: 'name', direction: 'both', codec: 'text' },
      { local: 'domain', crm: 'domain', direction: 'both', codec: 'domain' },
    ],
    associates: ['contacts'],
  },
};

export interface InMemoryConnectorOptions {
  authorizeUrl?: string;
  /** Most records one `upsertBatch` takes; small by default so tests cross batch boundaries. */
  maxWriteBatch?: number;
  maxReadPage?: number;
}

/** The connector for `InMemoryCrm`, written as a real one: it translates, pages once, never retries. */
export class InMemoryConnector implements IntegrationPort {
  readonly provider = IN_MEMORY_PROVIDER;
  private readonly authorizeUrl: string;
  private readonly maxWriteBatch: number;
  private readonly maxReadPage: number;

  constructor(
    readonly crm: InMemoryCrm,
    options: InMemoryConnectorOptions = {},
  ) {
    this.authorizeUrl = options.authorizeUrl ?? 'https://crm.example.test/oauth/authorize';
    this.maxWriteBatch = options.maxWriteBatch ?? 3;
    this.maxReadPage = options.maxReadPage ?? 500;
  }

  capabilities(): ConnectorCapabilities {
    return {
      provider: this.provider,
      displayName: 'In-memory CRM',
      objects: [
        {
          name: 'contacts',
          label: 'Contacts',
          role: 'contact',
          emailField: 'email',
          reportsDeletions: true,
          upsertByEmail: true,
        },
        {
          name: 'companies',
          label: 'Companies',
          role: 'company',
          reportsDeletions: true,
          upsertByEmail: false,
        },
      ],
      maxWriteBatch: this.maxWriteBatch,
      maxReadPage: this.maxReadPage,
      maxConcurrency: 4,
      defaultMappings: IN_MEMORY_DEFAULT_MAPPINGS,
      defaultCompanyMappings: IN_MEMORY_DEFAULT_COMPANY_MAPPINGS,
      rateLimits: [
        { kind: 'window', limit: 100, windowMs: 10_000 },
        { kind: 'daily', limit: 250_000 },
      ],
      webhooks: { supported: true, verification: 'hmac-sha256' },
      oauth: { pkce: true, defaultScopes: ['contacts.read', 'contacts.write'], refreshRotates: true },
    };
  }

  buildAuthorizeUrl(request: AuthorizeUrlRequest): string {
    const url = new URL(this.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.crm.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('scope', (request.scopes ?? this.capabilities().oauth.defaultScopes).join(' '));
    url.searchParams.set('state', request.state);
    if (request.codeChallenge !== undefined) {
      url.searchParams.set('code_challenge', request.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url.toString();
  }

  async exchangeCode(request: CodeExchangeRequest): Promise<TokenSet> {
    return this.crm.exchangeCode(request);
  }

  async refreshTokens(refreshToken: string): Promise<TokenSet> {
    return this.crm.refresh(refreshToken);
  }

  async revokeToken(token: string): Promise<void> {
    this.crm.revoke(token);
  }

  async describeObject(session: CrmSession, object: string): Promise<FieldDescriptor[]> {
    this.enter(session);
    return [...READ_ONLY_FIELDS, ...this.crm.schema(object).fields.map((schema) => schema.descriptor)].map(
      (descriptor) => ({
        ...descriptor,
        options: descriptor.options?.map((option) => ({ ...option })),
      }),
    );
  }

  async readChanges(session: CrmSession, request: ReadChangesRequest): Promise<ChangePage> {
    this.enter(session);
    const pageSize = Math.min(Math.max(1, request.pageSize ?? 100), this.maxReadPage);
    const after = request.pageToken === undefined ? undefined : this.decodePageToken(request);
    const sinceMs =
      request.since === null ? undefined : instantMs(request.since.modifiedAt, 'since.modifiedAt');
    // Inclusive of the cursor's instant: records sharing it with ids above lastId are still to be read.
    const entries = this.crm.changeStream(request.object).filter((entry) => {
      const position =
        entry.kind === 'record'
          ? this.crm.position(entry.record.modifiedAt, entry.record.id)
          : this.crm.position(entry.entry.deletedAt, entry.entry.id);
      return (
        (sinceMs === undefined || position.at >= sinceMs) &&
        (after === undefined || comparePositions(position, after) > 0)
      );
    });
    const page = entries.slice(0, pageSize);
    const records: CrmRecord[] = [];
    const deleted: DeletedRecord[] = [];
    for (const entry of page) {
      if (entry.kind === 'record') records.push(this.crm.toCrmRecord(entry.record, request.fields));
      else deleted.push({ ...entry.entry });
    }
    const last = page[page.length - 1];
    if (entries.length <= page.length || last === undefined) {
      return { records, deleted };
    }
    const lastPosition =
      last.kind === 'record'
        ? this.crm.position(last.record.modifiedAt, last.record.id)
        : this.crm.position(last.entry.deletedAt, last.entry.id);
    const token: PageToken = { object: request.object, since: request.since, after: lastPosition };
    return { records, deleted, nextPageToken: Buffer.from(JSON.stringify(token)).toString('base64url') };
  }

  async listIds(session: CrmSession, request: ListIdsRequest): Promise<IdPage> {
    this.enter(session);
    const pageSize = Math.min(Math.max(1, request.pageSize ?? 100), this.maxReadPage);
    const since =
      request.modifiedSince === undefined ? undefined : instantMs(request.modifiedSince, 'modifiedSince');
    const all = this.crm
      .listRecords(request.object)
      .filter((record) => since === undefined || Date.parse(record.modifiedAt) >= since)
      .sort((a, b) => Number(a.id) - Number(b.id));
    // Keyset by id, as real listings page: a record removed between pages moves no other record to another page.
    const after = request.pageToken === undefined ? 0 : Number(request.pageToken);
    const rest = all.filter((record) => Number(record.id) > after);
    const ids = rest.slice(0, pageSize).map((record) => ({ id: record.id, modifiedAt: record.modifiedAt }));
    const last = ids[ids.length - 1];
    return rest.length > pageSize && last ? { ids, nextPageToken: last.id } : { ids };
  }

  async upsertBatch(session: CrmSession, request: UpsertBatchRequest): Promise<UpsertResult[]> {
    this.enter(session);
    const schema = this.crm.schema(request.object);
    if (request.records.length > this.maxWriteBatch) {
      throw new CrmError(
        CrmErrorCode.VALIDATION_FAILED,
        `A batch takes at most ${this.maxWriteBatch} records, got ${request.records.length}`,
        { status: 400, provider: this.provider },
      );
    }
    return request.records.map((input): UpsertResult => {
      let target = input.crmId === undefined ? undefined : this.crm.storedRecord(request.object, input.crmId);
      if (input.crmId !== undefined && target === undefined) {
        return {
          key: input.key,
          ok: false,
          error: { code: CrmErrorCode.NOT_FOUND, message: `${request.object} ${input.crmId} does not exist` },
        };
      }
      const email = schema.emailField === undefined ? undefined : input.fields[schema.emailField];
      // A create is looked up by e-mail here unless the caller says it just did that (`createsMatched`).
      if (target === undefined && typeof email === 'string' && request.createsMatched !== true) {
        const [match] = this.crm.recordsByEmail(request.object, [email]);
        target = match && this.crm.storedRecord(request.object, match.id);
      }
      const problem = this.crm.validate(request.object, input.fields, target);
      if (problem) {
        return { key: input.key, ok: false, error: problem };
      }
      const saved =
        target === undefined
          ? this.crm.createRecord(request.object, input.fields)
          : this.crm.updateRecord(request.object, target.id, input.fields);
      return {
        key: input.key,
        ok: true,
        crmId: saved.id,
        created: target === undefined,
        modifiedAt: saved.modifiedAt,
      };
    });
  }

  async findByEmail(session: CrmSession, object: string, emails: string[]): Promise<CrmRecord[]> {
    this.enter(session);
    return emails.length === 0 ? [] : this.crm.recordsByEmail(object, emails);
  }

  async getRecords(session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> {
    this.enter(session);
    this.crm.schema(request.object);
    const records: CrmRecord[] = [];
    for (const id of new Set(request.ids)) {
      const stored = this.crm.storedRecord(request.object, id);
      if (stored !== undefined) records.push(this.crm.toCrmRecord(stored, request.fields));
    }
    return records;
  }

  async deleteRecords(session: CrmSession, request: DeleteRecordsRequest): Promise<DeleteResult[]> {
    this.enter(session);
    this.crm.schema(request.object);
    return request.ids.map((id): DeleteResult => {
      // Already gone (deleted before, or never there): deleting is idempotent.
      if (this.crm.storedRecord(request.object, id) !== undefined) this.crm.deleteRecord(request.object, id);
      return { id, ok: true };
    });
  }

  async findCompanies(session: CrmSession, request: FindCompaniesRequest): Promise<CrmRecord[]> {
    this.enter(session);
    this.crm.schema(request.object);
    return this.crm
      .companiesMatching(request.object, request.names, request.domains)
      .map((record) => (request.fields ? this.crm.toCrmRecord(this.stored(record), request.fields) : record));
  }

  async associateRecords(session: CrmSession, request: AssociateRecordsRequest): Promise<AssociateResult[]> {
    this.enter(session);
    return request.pairs.map(({ id, toId }): AssociateResult => {
      try {
        this.crm.associate(request.object, id, request.toObject, toId);
        return { id, ok: true };
      } catch (error) {
        if (!(error instanceof CrmError)) throw error;
        return { id, ok: false, error: { code: error.code, message: error.message } };
      }
    });
  }

  private stored(record: CrmRecord): StoredRecord {
    return this.crm.storedRecord(record.object, record.id) as StoredRecord;
  }

  async logActivities(session: CrmSession, activities: ActivityInput[]): Promise<ActivityResult[]> {
    this.enter(session);
    return activities.map((activity): ActivityResult => {
      try {
        return { key: activity.key, ok: true, crmId: this.crm.logActivity(activity).crmId };
      } catch (error) {
        if (error instanceof CrmError) {
          return {
            key: activity.key,
            ok: false,
            error: { code: error.code, message: error.message, crmCode: error.crmCode },
          };
        }
        throw error;
      }
    });
  }

  parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
    const signature = headerValue(request.headers, SIGNATURE_HEADER);
    const timestamp = Number(headerValue(request.headers, TIMESTAMP_HEADER));
    if (signature === undefined || !Number.isFinite(timestamp)) {
      throw this.invalidSignature('missing signature or timestamp header');
    }
    if (Math.abs(request.receivedAt.getTime() - timestamp) > WEBHOOK_MAX_AGE_MS) {
      throw this.invalidSignature('timestamp is more than five minutes from the time of receipt');
    }
    const expected = Buffer.from(
      signInMemoryWebhook(secrets.secret, request.method, request.url, request.rawBody, timestamp),
    );
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw this.invalidSignature('signature does not match');
    }
    let events: unknown;
    try {
      events = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Webhook body is not JSON', {
        provider: this.provider,
      });
    }
    if (!Array.isArray(events)) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Webhook body is not an array of events', {
        provider: this.provider,
      });
    }
    return events as WebhookEvent[];
  }

  private enter(session: CrmSession): void {
    if (session.signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'The call was aborted', {
        provider: this.provider,
        cause: session.signal.reason,
      });
    }
    this.crm.authenticate(session.accessToken);
  }

  private decodePageToken(request: ReadChangesRequest): StreamPosition {
    let token: PageToken;
    try {
      token = JSON.parse(Buffer.from(request.pageToken as string, 'base64url').toString('utf8')) as PageToken;
    } catch {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Invalid page token', {
        status: 400,
        provider: this.provider,
      });
    }
    if (
      token.object !== request.object ||
      token.since?.modifiedAt !== request.since?.modifiedAt ||
      token.since?.lastId !== request.since?.lastId
    ) {
      throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'The page token belongs to a different read', {
        status: 400,
        provider: this.provider,
      });
    }
    return token.after;
  }

  /** Webhooks registered through the port, by id (tests read them). */
  readonly registeredWebhooks = new Map<string, RegisterWebhooksRequest & { object: string }>();
  private nextWebhookId = 1;

  async registerWebhooks(session: CrmSession, request: RegisterWebhooksRequest): Promise<RegisteredWebhooks> {
    this.enter(session);
    const ids = request.objects.map((object) => {
      const id = String(this.nextWebhookId++);
      this.registeredWebhooks.set(id, { ...request, object });
      return id;
    });
    return { ids };
  }

  async removeWebhooks(session: CrmSession, ids: string[]): Promise<void> {
    this.enter(session);
    for (const id of ids) this.registeredWebhooks.delete(id);
  }

  private invalidSignature(reason: string): CrmError {
    return new CrmError(CrmErrorCode.INVALID_SIGNATURE, `Webhook rejected: ${reason}`, {
      status: 401,
      provider: this.provider,
    });
  }
}

function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
