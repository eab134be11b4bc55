// The data side of the Salesforce sandbox: one org's records, their validation and DML semantics, SOQL over them,
// query cursors and the replication feeds. HTTP routes (salesforce-sandbox.ts) stay thin on top of this.
// Behaviour follows the REST API Developer Guide (sObject Rows, sObject Collections, Query, Get Updated/Deleted)
// and the SOAP API's DML error codes (StatusCode enum: REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, ...).

import { SandboxClock } from '../kit/clock';
import { FakePersonGenerator } from '../kit/fake-people';
import { RecordStore } from '../kit/record-store';
import { SalesforceIdGenerator, isValidId, to18 } from './ids';
import { FieldDefinition, ObjectDefinition, SalesforceSchema } from './schema';
import {
  formatDateTime,
  parseDateTime,
  prepareSoql,
  type CompiledQuery,
  SoqlDataSource,
  SoqlRow,
} from './soql';

/** A stored record: `fields` holds every field of the object by its canonical name (nulls included). */
export interface SalesforceRecord {
  id: string;
  fields: Record<string, unknown>;
}

/** One entry of a DML result's `errors` (SOAP/REST `Error`: statusCode, message, fields). */
export interface DmlError {
  statusCode: string;
  message: string;
  fields: string[];
}

export interface SaveResult {
  id?: string | null;
  success: boolean;
  errors: DmlError[];
  created?: boolean;
}

/** A request-level failure: answered as HTTP `status` with `[{ message, errorCode, fields? }]`. */
export class SalesforceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
    this.name = errorCode;
  }

  body(): Array<Record<string, unknown>> {
    return [
      { message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) },
    ];
  }
}

/** Asks the fault injector whether a record should fail validation (kit FaultInjector.recordError). */
export type RecordFaultHook = (objectName: string, input: Record<string, unknown>) => DmlError | undefined;

/** One committed record change, as Change Data Capture reports it (streaming.ts turns it into a change event). */
export interface RecordChange {
  entityName: string;
  changeType: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
  recordId: string;
  /** Fields whose value changed (UPDATE), or every non-null field (CREATE). */
  changedFields: string[];
  /** The record's fields after the change (nothing for DELETE). */
  fields: Record<string, unknown>;
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: SoqlRow[];
}

interface QueryCursor {
  id: string;
  records: SoqlRow[];
  totalSize: number;
  pageSize: number;
  version: string;
  lastUsedMs: number;
}

const EMAIL_PATTERN = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;
/** Open query cursors kept per org; the oldest is dropped beyond this (Salesforce allows a handful per user). */
const MAX_OPEN_CURSORS = 100;
/** Salesforce drops a query cursor after 15 minutes without use. */
const CURSOR_IDLE_MS = 15 * 60_000;
export const DEFAULT_QUERY_PAGE_SIZE = 2000;
export const MIN_QUERY_PAGE_SIZE = 200;
/** Records per sObject Collections request. */
export const MAX_COLLECTION_RECORDS = 200;

function isTextType(field: FieldDefinition): boolean {
  return ['string', 'email', 'phone', 'url', 'textarea', 'picklist'].includes(field.type);
}

export interface SalesforceOrgOptions {
  clock: SandboxClock;
  schema: SalesforceSchema;
  orgName?: string;
  user?: { firstName: string; lastName: string; email: string; username: string };
}

/** Per-request uniqueness bookkeeping: values claimed earlier in the batch and lazily built value indexes. */
interface BatchState {
  pending: Map<string, string>;
  indexes: Map<string, Map<string, string[]>>;
}

interface UpsertEntry {
  object: ObjectDefinition;
  values: Record<string, unknown>;
  errors: DmlError[];
  existing?: SalesforceRecord;
  id?: string;
}

interface PreparedWrite {
  values: Record<string, unknown>;
  errors: DmlError[];
}

export class SalesforceOrg {
  readonly schema: SalesforceSchema;
  readonly clock: SandboxClock;
  readonly ids = new SalesforceIdGenerator();
  readonly orgId: string;
  readonly userId: string;
  readonly orgName: string;
  readonly user: { firstName: string; lastName: string; email: string; username: string };
  recordFault: RecordFaultHook | undefined;
  /** Called after each committed create, update and delete (the Change Data Capture feed listens here). */
  onRecordChange: ((change: RecordChange) => void) | undefined;
  private readonly stores = new Map<string, RecordStore<SalesforceRecord>>();
  private readonly cursors = new Map<string, QueryCursor>();

  constructor(options: SalesforceOrgOptions) {
    this.schema = options.schema;
    this.clock = options.clock;
    this.orgName = options.orgName ?? 'PenguinMails Sandbox Org';
    this.user = options.user ?? {
      firstName: 'Sandy',
      lastName: 'Admin',
      email: 'admin@sandbox-org.example',
      username: 'admin@sandbox-org.example',
    };
    for (const object of this.schema.objects()) {
      this.stores.set(object.name, new RecordStore<SalesforceRecord>(object.name, { clock: this.clock }));
    }
    this.orgId = this.ids.next('00D');
    this.userId = this.insertUser();
  }

  private insertUser(): string {
    const object = this.objectOrThrow('User');
    const id = this.ids.next(object.keyPrefix);
    const now = formatDateTime(this.clock.nowMs());
    const fields: Record<string, unknown> = {};
    for (const field of object.fields) fields[field.name] = null;
    Object.assign(fields, {
      Id: id,
      Username: this.user.username,
      FirstName: this.user.firstName,
      LastName: this.user.lastName,
      Name: `${this.user.firstName} ${this.user.lastName}`,
      Email: this.user.email,
      IsActive: true,
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: id,
      LastModifiedDate: now,
      LastModifiedById: id,
      SystemModstamp: now,
    });
    this.store('User').insert({ id, fields });
    return id;
  }

  /** Empties every object (keeps the org and its user). */
  reset(): void {
    for (const [name, store] of this.stores) if (name !== 'User') store.clear();
    this.cursors.clear();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Lookups

  object(name: string): ObjectDefinition | undefined {
    return this.schema.object(name);
  }

  objectOrThrow(name: string): ObjectDefinition {
    const object = this.schema.object(name);
    if (!object) throw new SalesforceApiError(404, 'NOT_FOUND', `The requested resource does not exist`);
    return object;
  }

  store(objectName: string): RecordStore<SalesforceRecord> {
    const object = this.objectOrThrow(objectName);
    return this.stores.get(object.name) as RecordStore<SalesforceRecord>;
  }

  /** A live record by 15- or 18-character id. */
  findById(id: string): { object: ObjectDefinition; record: SalesforceRecord } | undefined {
    if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) return undefined;
    const object = this.schema.objectForId(id);
    if (!object) return undefined;
    const record = this.store(object.name).get(to18(id.slice(0, 15)));
    return record && { object, record };
  }

  /** Removes a record (live or in the recycle bin) with no trace: a hard delete; false when there was none. */
  purge(id: string): boolean {
    const object = this.schema.objectForId(id);
    if (!object || id.length < 15) return false;
    return this.store(object.name).purge(to18(id.slice(0, 15)));
  }

  /** A deleted record (in the recycle bin) by id. */
  findDeleted(id: string): SalesforceRecord | undefined {
    const object = this.schema.objectForId(id);
    if (!object || id.length < 15) return undefined;
    return this.store(object.name).getDeleted(to18(id.slice(0, 15)))?.record;
  }

  records(objectName: string): SalesforceRecord[] {
    return this.store(objectName).all();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Write validation

  /**
   * Checks a client-sent record against the object's metadata. Unknown fields and JSON values of the wrong type
   * fail the whole request (Salesforce rejects them while deserializing); everything else is a per-record error.
   */
  private prepare(
    object: ObjectDefinition,
    input: Record<string, unknown>,
    mode: 'create' | 'update',
    existing?: SalesforceRecord,
  ): PreparedWrite {
    const values: Record<string, unknown> = {};
    const errors: DmlError[] = [];
    const notWritable: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes') continue;
      const field = this.schema.field(object, key);
      if (!field) {
        throw new SalesforceApiError(
          400,
          'INVALID_FIELD',
          `No such column '${key}' on sobject of type ${object.name}`,
        );
      }
      if (field.name === 'Id') continue;
      if (mode === 'create' ? !field.createable : !field.updateable) {
        notWritable.push(field.name);
        continue;
      }
      values[field.name] = this.coerce(object, field, raw);
    }
    if (notWritable.length > 0) {
      errors.push({
        statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
        message: `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        fields: notWritable,
      });
      return { values, errors };
    }

    // Required fields: missing on create, or set to null on update.
    const missing = object.fields.filter((field) => {
      if (field.nillable || field.calculated || field.defaultedOnCreate || field.type === 'boolean')
        return false;
      if (!field.createable && mode === 'create') return false;
      if (mode === 'create') return values[field.name] === undefined || values[field.name] === null;
      return field.name in values && values[field.name] === null;
    });
    if (missing.length > 0) {
      errors.push({
        statusCode: 'REQUIRED_FIELD_MISSING',
        message: `Required fields are missing: [${missing.map((field) => field.name).join(', ')}]`,
        fields: missing.map((field) => field.name),
      });
    }

    for (const [name, value] of Object.entries(values)) {
      const field = this.schema.field(object, name) as FieldDefinition;
      if (value === null) continue;
      if (field.type === 'email' && typeof value === 'string' && !EMAIL_PATTERN.test(value)) {
        errors.push({
          statusCode: 'INVALID_EMAIL_ADDRESS',
          message: `${field.label}: invalid email address: ${value}`,
          fields: [field.name],
        });
      }
      if (isTextType(field) && typeof value === 'string' && value.length > field.length) {
        errors.push({
          statusCode: 'STRING_TOO_LONG',
          message: `${field.label}: data value too large: ${value.slice(0, 40)}${value.length > 40 ? '...' : ''} (max length=${field.length})`,
          fields: [field.name],
        });
      }
      if (field.type === 'reference' && typeof value === 'string') {
        const error = this.checkReference(field, value);
        if (error) errors.push(error);
      }
    }

    const injected = this.recordFault?.(object.name, { ...(existing?.fields ?? {}), ...input });
    if (injected) errors.push(injected);
    return { values, errors };
  }

  private checkReference(field: FieldDefinition, value: string): DmlError | undefined {
    if (!isValidId(value)) {
      return {
        statusCode: 'MALFORMED_ID',
        message: `${field.label}: id value of incorrect type: ${value}`,
        fields: [field.name],
      };
    }
    const target = this.schema.objectForId(value);
    if (!target || !field.referenceTo?.includes(target.name)) {
      return {
        statusCode: 'FIELD_INTEGRITY_EXCEPTION',
        message: `${field.label}: id value of incorrect type: ${value}`,
        fields: [field.name],
      };
    }
    if (!this.findById(value)) {
      return {
        statusCode: 'INVALID_CROSS_REFERENCE_KEY',
        message: `invalid cross reference id`,
        fields: [field.name],
      };
    }
    return undefined;
  }

  /** JSON value → stored value for the field's type; a mismatch is a JSON_PARSER_ERROR, as Salesforce reports. */
  private coerce(object: ObjectDefinition, field: FieldDefinition, raw: unknown): unknown {
    const fail = (): never => {
      throw new SalesforceApiError(
        400,
        'JSON_PARSER_ERROR',
        `Cannot deserialize instance of ${field.type} from ${typeof raw} value ${JSON.stringify(raw)} or request may be missing a required field (${object.name}.${field.name})`,
      );
    };
    if (raw === null || raw === undefined) return null;
    switch (field.type) {
      case 'boolean':
        if (typeof raw === 'boolean') return raw;
        if (raw === 'true' || raw === 'false') return raw === 'true';
        return fail();
      case 'double':
      case 'currency':
      case 'int': {
        const number =
          typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
        if (!Number.isFinite(number)) return fail();
        return field.type === 'int' ? Math.trunc(number) : number;
      }
      case 'datetime': {
        if (typeof raw !== 'string') return fail();
        const ms = parseDateTime(raw) ?? (/^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN);
        if (!Number.isFinite(ms)) return fail();
        return formatDateTime(ms);
      }
      case 'date': {
        if (
          typeof raw !== 'string' ||
          !/^\d{4}-\d{2}-\d{2}/.test(raw) ||
          Number.isNaN(Date.parse(raw.slice(0, 10)))
        ) {
          return fail();
        }
        return raw.slice(0, 10);
      }
      case 'reference':
      case 'id':
        if (typeof raw !== 'string') return fail();
        return raw === '' ? null : raw.length === 15 && isValidId(raw) ? to18(raw) : raw;
      default:
        if (typeof raw === 'object') return fail();
        // Salesforce stores an empty string as null.
        return String(raw) === '' ? null : String(raw);
    }
  }

  /**
   * Records by lower-cased value of one field, built once per request: a batch of 200 checked against tens of
   * thousands of records stays linear. Valid during validation, which happens before any record of the batch is
   * written.
   */
  private valueIndex(object: ObjectDefinition, fieldName: string, batch: BatchState): Map<string, string[]> {
    const cacheKey = `${object.name}.${fieldName}`;
    let index = batch.indexes.get(cacheKey);
    if (!index) {
      index = new Map<string, string[]>();
      for (const record of this.store(object.name).values()) {
        const value = record.fields[fieldName];
        if (value === null || value === undefined) continue;
        const key = String(value).toLowerCase();
        const ids = index.get(key);
        if (ids) ids.push(record.id);
        else index.set(key, [record.id]);
      }
      batch.indexes.set(cacheKey, index);
    }
    return index;
  }

  /** Unique / external-id fields whose value is already taken by another record (or earlier in the batch). */
  private duplicateErrors(
    object: ObjectDefinition,
    values: Record<string, unknown>,
    selfId: string | undefined,
    batch: BatchState,
  ): DmlError[] {
    const errors: DmlError[] = [];
    for (const field of object.fields) {
      if (!field.unique) continue;
      const value = values[field.name];
      if (value === undefined || value === null) continue;
      const lower = String(value).toLowerCase();
      const key = `${object.name}.${field.name}:${lower}`;
      const stored = this.valueIndex(object, field.name, batch)
        .get(lower)
        ?.find((id) => id !== selfId);
      const pending = batch.pending.get(key);
      const holder = stored ?? (pending !== undefined && pending !== selfId ? pending : undefined);
      if (holder) {
        errors.push({
          statusCode: 'DUPLICATE_VALUE',
          message: `duplicate value found: ${field.name} duplicates value on record with id: ${holder}`,
          fields: [],
        });
      }
    }
    return errors;
  }

  private rememberUnique(
    object: ObjectDefinition,
    values: Record<string, unknown>,
    id: string,
    batch: BatchState,
  ) {
    for (const field of object.fields) {
      const value = values[field.name];
      if (field.unique && value !== undefined && value !== null) {
        batch.pending.set(`${object.name}.${field.name}:${String(value).toLowerCase()}`, id);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Commit

  private derived(object: ObjectDefinition, fields: Record<string, unknown>): void {
    if (object.name === 'Contact' || object.name === 'Lead' || object.name === 'User') {
      fields.Name = [fields.FirstName, fields.LastName]
        .filter((part) => typeof part === 'string' && part)
        .join(' ');
    }
    if (object.name === 'Task') {
      const closed = fields.Status === 'Completed';
      if (closed && !fields.IsClosed) fields.CompletedDateTime = formatDateTime(this.clock.nowMs());
      if (!closed) fields.CompletedDateTime = null;
      fields.IsClosed = closed;
    }
  }

  private insert(
    object: ObjectDefinition,
    values: Record<string, unknown>,
    id = this.ids.next(object.keyPrefix),
  ): string {
    const now = formatDateTime(this.clock.nowMs());
    const fields: Record<string, unknown> = {};
    for (const field of object.fields) {
      fields[field.name] = field.defaultValue ?? (field.type === 'boolean' ? false : null);
    }
    Object.assign(fields, values, {
      Id: id,
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    });
    if ('OwnerId' in fields && !fields.OwnerId) fields.OwnerId = this.userId;
    if (object.name === 'Task' && !fields.TaskSubtype) fields.TaskSubtype = 'Task';
    this.derived(object, fields);
    this.store(object.name).insert({ id, fields });
    this.onRecordChange?.({
      entityName: object.name,
      changeType: 'CREATE',
      recordId: id,
      changedFields: Object.keys(fields).filter((name) => fields[name] !== null && fields[name] !== false),
      fields,
    });
    return id;
  }

  private applyUpdate(
    object: ObjectDefinition,
    record: SalesforceRecord,
    values: Record<string, unknown>,
  ): void {
    const now = formatDateTime(this.clock.nowMs());
    const fields: Record<string, unknown> = {
      ...record.fields,
      ...values,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    };
    this.derived(object, fields);
    this.store(object.name).update(record.id, { fields });
    this.onRecordChange?.({
      entityName: object.name,
      changeType: 'UPDATE',
      recordId: record.id,
      changedFields: Object.keys(fields).filter(
        (name) => JSON.stringify(fields[name]) !== JSON.stringify(record.fields[name]),
      ),
      fields,
    });
  }

  private remove(object: ObjectDefinition, record: SalesforceRecord): void {
    const now = formatDateTime(this.clock.nowMs());
    this.store(object.name).update(record.id, {
      fields: { ...record.fields, IsDeleted: true, SystemModstamp: now },
    });
    this.store(object.name).delete(record.id);
    if (object.name === 'Account') {
      // Deleting an account deletes its contacts too (Salesforce Help, "Delete Accounts"): they go to the recycle
      // bin with it and are reported deleted like any other.
      const contact = this.objectOrThrow('Contact');
      const accountId = record.id.slice(0, 15);
      for (const child of this.records('Contact')) {
        const parent = child.fields.AccountId;
        if (typeof parent === 'string' && parent.slice(0, 15) === accountId) this.remove(contact, child);
      }
    }
    this.onRecordChange?.({
      entityName: object.name,
      changeType: 'DELETE',
      recordId: record.id,
      changedFields: [],
      fields: {},
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // DML, one record (sObject Rows) and many (sObject Collections)

  private writableObject(name: unknown): ObjectDefinition {
    if (typeof name !== 'string' || !name) {
      throw new SalesforceApiError(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
    }
    const object = this.schema.object(name);
    if (!object) {
      throw new SalesforceApiError(400, 'NOT_FOUND', `The requested resource does not exist`);
    }
    if (!object.writable) {
      throw new SalesforceApiError(
        400,
        'INVALID_TYPE',
        `sObject type '${object.name}' is not supported for DML through this API.`,
      );
    }
    return object;
  }

  /** POST /sobjects/{T} and POST /composite/sobjects. */
  createMany(
    inputs: Array<{ type: unknown; fields: Record<string, unknown> }>,
    allOrNone: boolean,
  ): SaveResult[] {
    const batch: BatchState = { pending: new Map(), indexes: new Map() };
    const prepared = inputs.map(({ type, fields }, index) => {
      const object = this.writableObject(type);
      if (fields.Id !== undefined && fields.Id !== null) {
        return {
          object,
          values: {},
          errors: [
            { statusCode: 'INVALID_FIELD', message: 'cannot specify Id in an insert call', fields: ['Id'] },
          ],
        };
      }
      const write = this.prepare(object, fields, 'create');
      const placeholder = `#${index}`;
      write.errors.push(...this.duplicateErrors(object, write.values, placeholder, batch));
      if (write.errors.length === 0) this.rememberUnique(object, write.values, placeholder, batch);
      return { object, ...write };
    });
    return this.commit(prepared, allOrNone, (entry) => ({
      id: this.insert(entry.object, entry.values),
      success: true,
      errors: [],
    }));
  }

  /** PATCH /sobjects/{T}/{id} and PATCH /composite/sobjects. */
  updateMany(
    inputs: Array<{ type: unknown; id: unknown; fields: Record<string, unknown> }>,
    allOrNone: boolean,
  ): SaveResult[] {
    const batch: BatchState = { pending: new Map(), indexes: new Map() };
    const prepared = inputs.map(({ type, id, fields }) => {
      const object = this.writableObject(type);
      const idText = typeof id === 'string' ? id : '';
      const found = this.findById(idText);
      if (!found || found.object.name !== object.name) {
        const deleted = this.findDeleted(idText);
        const error: DmlError = deleted
          ? { statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }
          : isValidId(idText)
            ? { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] }
            : { statusCode: 'MALFORMED_ID', message: `malformed id ${idText}`, fields: [] };
        return { object, id: idText, values: {}, errors: [error] };
      }
      const write = this.prepare(object, fields, 'update', found.record);
      write.errors.push(...this.duplicateErrors(object, write.values, found.record.id, batch));
      if (write.errors.length === 0) this.rememberUnique(object, write.values, found.record.id, batch);
      return { object, id: found.record.id, record: found.record, ...write };
    });
    return this.commit(prepared, allOrNone, (entry) => {
      const current = this.store(entry.object.name).get(entry.id) as SalesforceRecord;
      this.applyUpdate(entry.object, current, entry.values);
      return { id: entry.id, success: true, errors: [] };
    });
  }

  /** PATCH /sobjects/{T}/{extField}/{value} and PATCH /composite/sobjects/{T}/{extField}. */
  upsertMany(
    objectName: string,
    externalIdField: string,
    inputs: Array<{ type?: unknown; value: unknown; fields: Record<string, unknown> }>,
    allOrNone: boolean,
  ): SaveResult[] {
    const object = this.writableObject(objectName);
    const field = this.schema.field(object, externalIdField);
    if (!field || !(field.externalId || field.name === 'Id')) {
      throw new SalesforceApiError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${externalIdField}`,
      );
    }
    const batch: BatchState = { pending: new Map(), indexes: new Map() };
    const seenValues = new Map<string, number>();
    for (const input of inputs) {
      const key = String(input.value ?? '').toLowerCase();
      seenValues.set(key, (seenValues.get(key) ?? 0) + 1);
    }
    const prepared = inputs.map((input, index): UpsertEntry => {
      if (input.type !== undefined && String(input.type).toLowerCase() !== object.name.toLowerCase()) {
        return {
          object,
          values: {},
          errors: [
            {
              statusCode: 'INVALID_TYPE',
              message: `Record type ${String(input.type)} does not match ${object.name}`,
              fields: [],
            },
          ],
        };
      }
      const value = input.value;
      if (value === undefined || value === null || value === '') {
        return {
          object,
          values: {},
          errors: [{ statusCode: 'MISSING_ARGUMENT', message: `${field.name} not specified`, fields: [] }],
        };
      }
      if ((seenValues.get(String(value).toLowerCase()) ?? 0) > 1) {
        return {
          object,
          values: {},
          errors: [
            {
              statusCode: 'DUPLICATE_EXTERNAL_ID',
              message: `Duplicate external id specified: ${String(value)}`,
              fields: [field.name],
            },
          ],
        };
      }
      const matches =
        field.name === 'Id'
          ? [this.findById(String(value))?.record].filter((record): record is SalesforceRecord => !!record)
          : (this.valueIndex(object, field.name, batch).get(String(value).toLowerCase()) ?? []).map(
              (id) => this.store(object.name).get(id) as SalesforceRecord,
            );
      if (matches.length > 1) {
        return {
          object,
          values: {},
          errors: [
            {
              statusCode: 'DUPLICATE_EXTERNAL_ID',
              message: `${field.label}: more than one record found for external id field: [${matches.map((r) => r.id).join(', ')}]`,
              fields: [field.name],
            },
          ],
        };
      }
      const existing = matches[0];
      const rest = Object.fromEntries(
        Object.entries(input.fields).filter(([key]) => key.toLowerCase() !== field.name.toLowerCase()),
      );
      const fields = existing ? rest : field.name === 'Id' ? rest : { ...rest, [field.name]: value };
      if (!existing && field.name === 'Id') {
        return {
          object,
          values: {},
          errors: [
            {
              statusCode: 'NOT_FOUND',
              message: 'Provided external ID field does not exist or is not accessible: Id',
              fields: [],
            },
          ],
        };
      }
      const write = this.prepare(object, fields, existing ? 'update' : 'create', existing);
      const selfId = existing?.id ?? `#${index}`;
      write.errors.push(...this.duplicateErrors(object, write.values, selfId, batch));
      if (write.errors.length === 0) this.rememberUnique(object, write.values, selfId, batch);
      return { object, existing, id: existing?.id, ...write };
    });
    return this.commit(
      prepared,
      allOrNone,
      (entry) => {
        if (entry.existing) {
          const current = this.store(object.name).get(entry.existing.id) as SalesforceRecord;
          this.applyUpdate(object, current, entry.values);
          return { id: entry.existing.id, success: true, errors: [], created: false };
        }
        return { id: this.insert(object, entry.values), success: true, errors: [], created: true };
      },
      true,
    );
  }

  /** DELETE /sobjects/{T}/{id} and DELETE /composite/sobjects?ids=. */
  deleteMany(ids: string[], allOrNone: boolean, objectName?: string): SaveResult[] {
    const prepared = ids.map((id) => {
      const found = this.findById(id);
      if (!found || (objectName && found.object.name.toLowerCase() !== objectName.toLowerCase())) {
        const error: DmlError = this.findDeleted(id)
          ? { statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }
          : isValidId(id)
            ? { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] }
            : { statusCode: 'MALFORMED_ID', message: `malformed id ${id}`, fields: [] };
        return { id, values: {}, errors: [error] };
      }
      const errors: DmlError[] = [];
      if (!found.object.writable) {
        errors.push({
          statusCode: 'INSUFFICIENT_ACCESS_OR_READONLY',
          message: 'insufficient access rights on object id',
          fields: [],
        });
      }
      // A delete can be refused per record too (an Apex trigger's addError, a validation in a before-delete flow):
      // the injected record faults answer deletes as they answer inserts and updates.
      const injected = this.recordFault?.(found.object.name, found.record.fields);
      if (injected) errors.push(injected);
      return { id: found.record.id, object: found.object, values: {}, errors };
    });
    return this.commit(prepared, allOrNone, (entry) => {
      const object = entry.object as ObjectDefinition;
      const current = this.store(object.name).get(entry.id as string) as SalesforceRecord;
      this.remove(object, current);
      return { id: entry.id, success: true, errors: [] };
    });
  }

  /**
   * Applies the successful entries and reports every entry in order. With allOrNone, one failure rolls back
   * everything: the valid records report ALL_OR_NONE_OPERATION_ROLLED_BACK (REST "sObject Collections").
   */
  private commit<E extends { id?: string; errors: DmlError[] }>(
    prepared: E[],
    allOrNone: boolean,
    apply: (entry: E) => SaveResult,
    withCreated = false,
  ): SaveResult[] {
    const anyFailed = prepared.some((entry) => entry.errors.length > 0);
    return prepared.map((entry) => {
      if (entry.errors.length > 0) {
        return {
          ...(entry.id !== undefined ? { id: entry.id } : {}),
          success: false,
          errors: entry.errors,
          ...(withCreated ? { created: false } : {}),
        };
      }
      if (allOrNone && anyFailed) {
        return {
          id: null,
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message:
                'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
          ...(withCreated ? { created: false } : {}),
        };
      }
      return apply(entry);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reads

  /** A record's fields for GET /sobjects/{T}/{id} (all fields, or the `fields` list). */
  retrieve(
    objectName: string,
    id: string,
    fieldNames: string[] | undefined,
    version: string,
  ): SoqlRow | undefined {
    const object = this.objectOrThrow(objectName);
    const found = this.findById(id);
    if (!found || found.object.name !== object.name) return undefined;
    const out: SoqlRow = {
      attributes: { type: object.name, url: this.recordUrl(version, object.name, found.record.id) },
    };
    const names = fieldNames ?? object.fields.map((field) => field.name);
    for (const name of names) {
      const field = this.schema.field(object, name);
      if (!field) {
        throw new SalesforceApiError(
          400,
          'INVALID_FIELD',
          `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      out[field.name] = found.record.fields[field.name] ?? null;
    }
    return out;
  }

  recordUrl(version: string, objectName: string, id: string): string {
    return `/services/data/v${version}/sobjects/${objectName}/${id}`;
  }

  private dataSource(): SoqlDataSource {
    return {
      object: (name) => this.schema.object(name),
      lookup: (id) => {
        const found = this.findById(id);
        return found && { objectName: found.object.name, row: found.record.fields };
      },
    };
  }

  /**
   * The only records a query can match when its WHERE pins a field Salesforce indexes (Name, Email, external ids and
   * unique fields, "Query Plan" / "Indexes" in the SOQL reference) to a few values: read from an index on that field
   * (built on first use, then kept in step with every write) instead of a scan. Undefined: scan every record.
   */
  private indexedCandidates(compiled: CompiledQuery): SalesforceRecord[] | undefined {
    const filter = compiled.selectiveFilter;
    if (filter === undefined) return undefined;
    const field = this.schema.field(compiled.object as ObjectDefinition, filter.field);
    if (!field || !(field.externalId || field.unique || field.name === 'Email' || field.name === 'Name')) {
      return undefined;
    }
    const store = this.store(compiled.object.name);
    const indexName = `field:${field.name}`;
    if (!store.hasIndex(indexName)) {
      store.index(indexName, (record) => {
        const value = record.fields[field.name];
        return typeof value === 'string' && value !== '' ? [value.toLowerCase()] : [];
      });
    }
    const byId = new Map<string, SalesforceRecord>();
    for (const key of new Set(filter.keys)) {
      for (const record of store.lookup(indexName, key)) byId.set(record.id, record);
    }
    return [...byId.values()];
  }

  /** GET /query (or /queryAll with includeDeleted): runs the SOQL and returns its first page. */
  query(soql: string, options: { version: string; includeDeleted: boolean; pageSize: number }): QueryPage {
    const compiled = prepareSoql(soql, this.dataSource(), {
      nowMs: this.clock.nowMs(),
      recordUrl: (type, id) => this.recordUrl(options.version, type, id),
    });
    const store = this.store(compiled.object.name);
    const candidates = options.includeDeleted ? undefined : this.indexedCandidates(compiled);
    const rows = (candidates ?? store.all()).map((record) => record.fields);
    if (options.includeDeleted) rows.push(...store.deleted().map((tombstone) => tombstone.record.fields));
    const result = compiled.execute(rows);
    if (compiled.isCountOnly) return { totalSize: result.totalSize, done: true, records: [] };
    if (result.records.length <= options.pageSize) {
      return { totalSize: result.totalSize, done: true, records: result.records };
    }
    this.dropIdleCursors();
    const cursor: QueryCursor = {
      id: this.ids.next('01g'),
      records: result.records,
      totalSize: result.totalSize,
      pageSize: options.pageSize,
      version: options.version,
      lastUsedMs: Date.now(),
    };
    this.cursors.set(cursor.id, cursor);
    while (this.cursors.size > MAX_OPEN_CURSORS)
      this.cursors.delete(this.cursors.keys().next().value as string);
    return this.page(cursor, 0, options.pageSize, options.version);
  }

  /** GET /query/{locator}: the next page of an earlier query. Locator = "{cursorId}-{offset}". */
  queryMore(locator: string, options: { version: string; pageSize?: number }): QueryPage {
    const match = /^([A-Za-z0-9]+)-(\d+)$/.exec(locator);
    this.dropIdleCursors();
    const cursor = match ? this.cursors.get(match[1]) : undefined;
    if (!match || !cursor) {
      throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    const offset = Number(match[2]);
    if (offset > cursor.records.length)
      throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    cursor.lastUsedMs = Date.now();
    return this.page(cursor, offset, options.pageSize ?? cursor.pageSize, options.version);
  }

  private page(cursor: QueryCursor, offset: number, pageSize: number, version: string): QueryPage {
    const end = Math.min(offset + pageSize, cursor.records.length);
    const done = end >= cursor.records.length;
    return {
      totalSize: cursor.totalSize,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${cursor.id}-${end}` }),
      records: cursor.records.slice(offset, end),
    };
  }

  /** Cursors idle for 15 minutes expire (real time: a test moving the sandbox clock must not kill its cursors). */
  private dropIdleCursors(): void {
    const now = Date.now();
    for (const [id, cursor] of this.cursors)
      if (now - cursor.lastUsedMs > CURSOR_IDLE_MS) this.cursors.delete(id);
  }

  get openCursorCount(): number {
    return this.cursors.size;
  }

  /** GET /sobjects/{T}/updated: ids of live records changed in [start, end]. */
  updatedIds(
    objectName: string,
    startMs: number,
    endMs: number,
  ): { ids: string[]; latestDateCovered: string } {
    const object = this.objectOrThrow(objectName);
    const ids = this.store(object.name)
      .filter((record) => {
        const stamp = parseDateTime(String(record.fields.SystemModstamp)) ?? 0;
        return stamp >= startMs && stamp <= endMs;
      })
      .map((record) => record.id);
    return {
      ids,
      latestDateCovered: formatDateTime(
        Math.min(endMs, this.clock.nowMs()) - (Math.min(endMs, this.clock.nowMs()) % 60_000),
      ),
    };
  }

  /** GET /sobjects/{T}/deleted: records deleted in [start, end]. */
  deletedRecords(objectName: string, startMs: number, endMs: number) {
    const object = this.objectOrThrow(objectName);
    const tombstones = this.store(object.name).deleted();
    const deletedRecords = tombstones
      .filter(
        (tombstone) => tombstone.deletedAt.getTime() >= startMs && tombstone.deletedAt.getTime() <= endMs,
      )
      .map((tombstone) => ({ id: tombstone.id, deletedDate: formatDateTime(tombstone.deletedAt) }));
    const earliest = tombstones.reduce(
      (min, tombstone) => Math.min(min, tombstone.deletedAt.getTime()),
      startMs,
    );
    const covered = Math.min(endMs, this.clock.nowMs());
    return {
      deletedRecords,
      earliestDateAvailable: formatDateTime(earliest - (earliest % 60_000)),
      latestDateCovered: formatDateTime(covered - (covered % 60_000)),
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Staging for tests ("in the CRM": no API call is counted, no validation beyond the schema)

  /** Inserts records directly; `timestamp` sets CreatedDate/LastModifiedDate/SystemModstamp for all of them. */
  stage(objectName: string, rows: Array<Record<string, unknown>>, timestamp?: Date): SalesforceRecord[] {
    const object = this.objectOrThrow(objectName);
    const saved: SalesforceRecord[] = [];
    for (const row of rows) {
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        const field = this.schema.field(object, key);
        if (!field) throw new Error(`Salesforce sandbox: ${object.name} has no field ${key}`);
        values[field.name] = value;
      }
      const id = this.insert(object, values);
      if (timestamp) {
        const stamp = formatDateTime(timestamp);
        this.store(object.name).update(id, {
          fields: {
            ...(this.store(object.name).get(id) as SalesforceRecord).fields,
            CreatedDate: stamp,
            LastModifiedDate: stamp,
            SystemModstamp: stamp,
          },
        });
      }
      saved.push(this.store(object.name).get(id) as SalesforceRecord);
    }
    return saved;
  }

  /** Fake people as Contact or Lead rows (a lead carries its Company; a contact its mailing city and country). */
  fakeRows(
    objectName: 'Contact' | 'Lead',
    count: number,
    people: FakePersonGenerator,
  ): Array<Record<string, unknown>> {
    return people.people(count).map((person) => ({
      FirstName: person.firstName,
      LastName: person.lastName,
      Email: person.email,
      Phone: person.phone,
      Title: person.title,
      ...(objectName === 'Lead'
        ? { Company: person.company.name, City: person.city, Country: person.country }
        : { MailingCity: person.city, MailingCountry: person.country }),
    }));
  }

  /** Edits a record as a user would in the Salesforce UI: bumps LastModifiedDate and SystemModstamp. */
  editInCrm(objectName: string, id: string, fields: Record<string, unknown>): SalesforceRecord {
    const object = this.objectOrThrow(objectName);
    const found = this.findById(id);
    if (!found || found.object.name !== object.name)
      throw new Error(`Salesforce sandbox: no ${object.name} ${id}`);
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      const field = this.schema.field(object, key);
      if (!field) throw new Error(`Salesforce sandbox: ${object.name} has no field ${key}`);
      values[field.name] = value;
    }
    this.applyUpdate(object, found.record, values);
    return this.store(object.name).get(found.record.id) as SalesforceRecord;
  }

  deleteInCrm(objectName: string, id: string): void {
    const object = this.objectOrThrow(objectName);
    const found = this.findById(id);
    if (!found || found.object.name !== object.name)
      throw new Error(`Salesforce sandbox: no ${object.name} ${id}`);
    this.remove(object, found.record);
  }
}
