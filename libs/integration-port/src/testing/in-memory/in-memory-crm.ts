import { CrmError, CrmErrorCode } from '../../errors';
import { normaliseCompanyName, normaliseDomain } from '../../company-mapping';
import type {
  ActivityInput,
  CodeExchangeRequest,
  CrmRecord,
  DeletedRecord,
  RecordError,
  TokenSet,
} from '../../types';
import { InMemoryCrmAuth } from './crm-oauth';
import { READ_ONLY_FIELDS, SCHEMAS } from './crm-schema';
import { IN_MEMORY_PROVIDER } from './provider';
import { comparePositions, instantMs, type StreamPosition } from './stream-position';

/**
 * A small but honest CRM in memory. It has its own store, OAuth with PKCE and rotating refresh tokens, per-record
 * validation and signed webhooks; tests stage data through it directly, the connector reaches it only through the
 * `IntegrationPort`.
 */

export interface StoredRecord {
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

export interface InMemoryCrmOptions {
  /** The CRM's clock; default the real time. Staging may also stamp each change explicitly. */
  now?: () => Date;
  clientId?: string;
  clientSecret?: string;
  accountId?: string;
}

/** The CRM itself: storage, tokens and the rules it enforces. Tests stage and inspect data here. */
export class InMemoryCrm {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accountId: string;
  private readonly clock: () => Date;
  private readonly auth: InMemoryCrmAuth;
  private nextId = 1;
  private readonly records = new Map<string, Map<string, StoredRecord>>(
    Object.keys(SCHEMAS).map((object) => [object, new Map()]),
  );
  private readonly tombstones: DeletedRecord[] = [];
  /** Associations by `object:id`, then by associated object: a contact's company. */
  private readonly links = new Map<string, Record<string, string[]>>();
  private readonly activityLog = new Map<string, StoredActivity>();

  constructor(options: InMemoryCrmOptions = {}) {
    this.clock = options.now ?? (() => new Date());
    this.clientId = options.clientId ?? 'in-memory-client';
    this.clientSecret = options.clientSecret ?? 'in-memory-client-secret';
    this.accountId = options.accountId ?? 'in-memory-account-1';
    this.auth = new InMemoryCrmAuth(this.clientId, () => this.accountId, this.clock);
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

  // ---- OAuth (see crm-oauth.ts) ----

  /**
   * What the CRM's consent page does when the user clicks "Allow": checks the authorize URL's client and returns a
   * one-time code for its redirect URI.
   */
  approveAuthorization(authorizeUrl: string): { code: string; state: string | null; redirectUri: string } {
    return this.auth.approveAuthorization(authorizeUrl);
  }

  exchangeCode(request: CodeExchangeRequest): TokenSet {
    return this.auth.exchangeCode(request);
  }

  refresh(refreshToken: string): TokenSet {
    return this.auth.refresh(refreshToken);
  }

  revoke(token: string): void {
    this.auth.revoke(token);
  }

  /** Makes an access token expire now, as if its hour had passed. */
  expireAccessToken(token: string): void {
    this.auth.expireAccessToken(token);
  }

  /** Throws AUTH_EXPIRED unless `token` is a live access token. */
  authenticate(token: string): void {
    this.auth.authenticate(token);
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
