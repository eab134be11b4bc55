// The data of one sandbox HubSpot account ("portal"): records per object type, property metadata, associations,
// and the write rules HubSpot applies (property validation, unique emails, system timestamps).
// Validation errors follow https://developers.hubspot.com/docs/api/error-handling (PROPERTY_DOESNT_EXIST,
// INVALID_EMAIL, INVALID_OPTION, READ_ONLY_VALUE; 409 "Contact already exists. Existing ID: …").
import type { SandboxClock } from '../kit/clock';
import { RecordStore } from '../kit/record-store';
import { AssociationStore } from './associations';
import {
  contactExistsError,
  notFoundError,
  propertyValueError,
  PropertyValueError,
  propertyValuesError,
} from './errors';
import { HUBSPOT_OBJECT_TYPES, HubSpotObjectType, OBJECT_TYPE_INFO } from './object-types';
import { PropertyDefinition, PropertyRegistry } from './properties';

/** A stored record. `properties` holds only values that are set; datetimes are stored as ISO 8601. */
export interface HubSpotRecord {
  id: string;
  objectType: HubSpotObjectType;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** What a write sends for one record: HubSpot property values are strings, null clears a value. */
export type PropertyInput = Record<string, string | number | boolean | null | undefined>;

/** Who changed a record, for webhooks' `changeSource`. */
export type ChangeSource = 'INTEGRATION' | 'CRM_UI' | 'IMPORT';

export interface RecordChange {
  kind: 'creation' | 'propertyChange' | 'deletion' | 'merge';
  objectType: HubSpotObjectType;
  record: HubSpotRecord;
  /** Property names whose value changed (propertyChange only). */
  changedProperties: string[];
  source: ChangeSource;
  occurredAt: Date;
  /** The records merged into `record` (merge only). */
  mergedIds?: string[];
}

export type ChangeListener = (change: RecordChange) => void;

/** First ids handed out per object type; HubSpot ids are numeric strings, unique per object type. */
const FIRST_IDS: Record<HubSpotObjectType, number> = {
  contacts: 100_001,
  companies: 5_000_000_001,
  emails: 40_000_000_001,
};

// A deliberately plain check: one "@", a dot in the domain, no spaces (HubSpot refuses "foo", "a@b", "a b@c.d").
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/** Parses a datetime HubSpot accepts (epoch ms or ISO 8601) to ISO 8601; undefined when it is neither. */
export function normalizeDatetime(value: string): string | undefined {
  const trimmed = value.trim();
  const asNumber = Number(trimmed);
  const ms = trimmed !== '' && Number.isFinite(asNumber) ? asNumber : Date.parse(trimmed);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString();
}

export class HubSpotPortal {
  readonly properties = new PropertyRegistry();
  readonly associations = new AssociationStore();
  private readonly stores: Record<HubSpotObjectType, RecordStore<HubSpotRecord>>;
  private readonly nextIds: Record<HubSpotObjectType, number> = { ...FIRST_IDS };
  /** Lower-cased email → contact id, for uniqueness and idProperty=email lookups. */
  private readonly contactIdsByEmail = new Map<string, string>();
  private readonly listeners: ChangeListener[] = [];

  constructor(
    readonly clock: SandboxClock,
    readonly portalId: number,
  ) {
    this.stores = {
      contacts: new RecordStore<HubSpotRecord>('contacts', { clock }),
      companies: new RecordStore<HubSpotRecord>('companies', { clock }),
      emails: new RecordStore<HubSpotRecord>('emails', { clock }),
    };
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  store(objectType: HubSpotObjectType): RecordStore<HubSpotRecord> {
    return this.stores[objectType];
  }

  /**
   * Records of `objectType` holding one of `keys` (lower-cased) in `propertyName`, from an index on that property:
   * HubSpot's search is an index over every property, so a filter on one finds its records without a scan. The
   * index is built on the first search of the property and kept in step with every write from then on.
   */
  recordsWithValues(
    objectType: HubSpotObjectType,
    propertyName: string,
    keys: readonly string[],
  ): HubSpotRecord[] {
    const store = this.stores[objectType];
    const indexName = `property:${propertyName}`;
    if (!store.hasIndex(indexName)) {
      store.index(indexName, (record) => {
        const value = record.properties[propertyName];
        return typeof value === 'string' && value !== '' ? [value.toLowerCase()] : [];
      });
    }
    return [...new Set(keys)].flatMap((key) => store.lookup(indexName, key));
  }

  reset(): void {
    for (const objectType of HUBSPOT_OBJECT_TYPES) this.stores[objectType].clear();
    Object.assign(this.nextIds, FIRST_IDS);
    this.contactIdsByEmail.clear();
    this.associations.clear();
    this.properties.reset();
  }

  get(objectType: HubSpotObjectType, id: string): HubSpotRecord | undefined {
    return this.stores[objectType].get(id);
  }

  /** Archived records in id order (HubSpot keeps them 90 days; the sandbox keeps them until reset). */
  archived(objectType: HubSpotObjectType): HubSpotRecord[] {
    return this.stores[objectType]
      .deleted()
      .map((tombstone) => ({
        ...tombstone.record,
        archived: true,
        archivedAt: tombstone.deletedAt.toISOString(),
      }))
      .sort((left, right) => Number(left.id) - Number(right.id));
  }

  /** Finds a live record by id or by a unique property (`idProperty=email`). */
  find(objectType: HubSpotObjectType, idOrValue: string, idProperty?: string): HubSpotRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.get(objectType, idOrValue);
    if (objectType === 'contacts' && idProperty === 'email') {
      const id = this.contactIdsByEmail.get(idOrValue.trim().toLowerCase());
      return id === undefined ? undefined : this.get('contacts', id);
    }
    return this.stores[objectType].find((record) => record.properties[idProperty] === idOrValue);
  }

  /**
   * Checks property values the way HubSpot does and returns them normalised (emails lower-cased, datetimes as
   * ISO 8601, null for cleared values). Throws 400 with every invalid value listed.
   */
  validateProperties(
    objectType: HubSpotObjectType,
    input: PropertyInput,
    mode: 'create' | 'update',
  ): Record<string, string | null> {
    const errors: PropertyValueError[] = [];
    const normalized: Record<string, string | null> = {};
    for (const [name, rawValue] of Object.entries(input)) {
      if (rawValue === undefined) continue;
      const definition = this.properties.get(objectType, name);
      if (!definition) {
        errors.push(propertyValueError(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
        continue;
      }
      if (definition.modificationMetadata.readOnlyValue) {
        errors.push(
          propertyValueError(
            name,
            'READ_ONLY_VALUE',
            `"${name}" is a read only property; its value cannot be set.`,
          ),
        );
        continue;
      }
      if (isBlank(rawValue)) {
        normalized[name] = null;
        continue;
      }
      const checked = this.checkValue(objectType, definition, String(rawValue));
      if (typeof checked === 'string') normalized[name] = checked;
      else errors.push(checked);
    }
    if (mode === 'create' && objectType === 'emails' && isBlank(normalized.hs_timestamp)) {
      errors.push(propertyValueError('hs_timestamp', 'REQUIRED_FIELD', 'hs_timestamp is required'));
    }
    if (errors.length > 0) throw propertyValuesError(errors);
    return normalized;
  }

  private checkValue(
    objectType: HubSpotObjectType,
    definition: PropertyDefinition,
    value: string,
  ): string | PropertyValueError {
    const { name } = definition;
    if (objectType === 'contacts' && name === 'email') {
      const email = value.trim().toLowerCase();
      return EMAIL_PATTERN.test(email)
        ? email
        : propertyValueError(name, 'INVALID_EMAIL', `Email address ${value} is invalid`);
    }
    switch (definition.type) {
      case 'datetime':
      case 'date': {
        const iso = normalizeDatetime(value);
        return (
          iso ?? propertyValueError(name, 'INVALID_DATE', `${value} is not a valid date/time for ${name}`)
        );
      }
      case 'number':
        return Number.isFinite(Number(value)) && value.trim() !== ''
          ? value.trim()
          : propertyValueError(name, 'INVALID_NUMBER', `${value} is not a valid number`);
      case 'bool':
        return ['true', 'false'].includes(value.toLowerCase())
          ? value.toLowerCase()
          : propertyValueError(name, 'INVALID_BOOLEAN', `${value} is not a valid boolean`);
      case 'enumeration': {
        if (definition.options.length === 0) return value;
        const allowed = definition.options.map((option) => option.value);
        const invalid = value.split(';').find((part) => !allowed.includes(part));
        return invalid === undefined
          ? value
          : propertyValueError(
              name,
              'INVALID_OPTION',
              `${invalid} was not one of the allowed options: [${allowed.join(', ')}]`,
            );
      }
      default:
        return value;
    }
  }

  /** Throws the 409 HubSpot gives when `email` belongs to another contact. */
  assertEmailFree(email: string | null | undefined, ownId?: string): void {
    if (!email) return;
    const existing = this.contactIdsByEmail.get(email);
    if (existing !== undefined && existing !== ownId) throw contactExistsError(existing);
  }

  /** Creates a record from already-validated properties. */
  create(
    objectType: HubSpotObjectType,
    properties: Record<string, string | null>,
    source: ChangeSource,
    at: Date = this.clock.now(),
  ): HubSpotRecord {
    if (objectType === 'contacts') this.assertEmailFree(properties.email);
    const id = String(this.nextIds[objectType]++);
    const info = OBJECT_TYPE_INFO[objectType];
    const now = at.toISOString();
    const createdAt = properties[info.createdProperty] ?? now;
    const stored: Record<string, string> = {};
    for (const [name, value] of Object.entries(properties)) if (value !== null) stored[name] = value;
    stored[info.createdProperty] = createdAt;
    stored[info.lastModifiedProperty] = now;
    stored.hs_object_id = id;
    const record: HubSpotRecord = {
      id,
      objectType,
      properties: stored,
      createdAt,
      updatedAt: now,
      archived: false,
    };
    this.stores[objectType].insert(record);
    if (objectType === 'contacts' && stored.email) this.contactIdsByEmail.set(stored.email, id);
    this.notify({
      kind: 'creation',
      objectType,
      record,
      changedProperties: Object.keys(stored),
      source,
      occurredAt: at,
    });
    return record;
  }

  /** Applies validated property changes; bumps the modification time even when nothing changed, as HubSpot does. */
  update(
    objectType: HubSpotObjectType,
    id: string,
    properties: Record<string, string | null>,
    source: ChangeSource,
    at: Date = this.clock.now(),
  ): HubSpotRecord {
    const current = this.get(objectType, id);
    if (!current) throw notFoundError();
    if (objectType === 'contacts' && properties.email !== undefined)
      this.assertEmailFree(properties.email, id);
    const info = OBJECT_TYPE_INFO[objectType];
    const next: Record<string, string> = { ...current.properties };
    const changed: string[] = [];
    for (const [name, value] of Object.entries(properties)) {
      const previous = next[name];
      if (value === null) delete next[name];
      else next[name] = value;
      if (previous !== (value ?? undefined)) changed.push(name);
    }
    const now = at.toISOString();
    next[info.lastModifiedProperty] = now;
    if (objectType === 'contacts' && current.properties.email !== next.email) {
      if (current.properties.email) this.contactIdsByEmail.delete(current.properties.email);
      if (next.email) this.contactIdsByEmail.set(next.email, id);
    }
    const record = this.stores[objectType].update(id, { properties: next, updatedAt: now });
    if (!record) throw new Error(`record ${id} vanished during update`);
    if (changed.length > 0) {
      this.notify({
        kind: 'propertyChange',
        objectType,
        record,
        changedProperties: changed,
        source,
        occurredAt: at,
      });
    }
    return record;
  }

  /** Removes a record with no trace (no recycle bin entry, no event); false when there was no live record. */
  purge(objectType: HubSpotObjectType, id: string): boolean {
    const current = this.stores[objectType].get(id);
    if (!current || !this.stores[objectType].purge(id)) return false;
    if (objectType === 'contacts' && current.properties.email)
      this.contactIdsByEmail.delete(current.properties.email);
    this.associations.removeRecord(objectType, id);
    return true;
  }

  /** Moves a record to the recycle bin; returns false when there was no live record. */
  archive(
    objectType: HubSpotObjectType,
    id: string,
    source: ChangeSource,
    at: Date = this.clock.now(),
    options: { silent?: boolean } = {},
  ): boolean {
    const tombstone = this.stores[objectType].delete(id, at);
    if (!tombstone) return false;
    if (objectType === 'contacts' && tombstone.record.properties.email) {
      this.contactIdsByEmail.delete(tombstone.record.properties.email);
    }
    this.associations.removeRecord(objectType, id);
    // A record merged into another leaves with the merge event, not a deletion of its own.
    if (options.silent) return true;
    this.notify({
      kind: 'deletion',
      objectType,
      record: { ...tombstone.record, archived: true, archivedAt: at.toISOString() },
      changedProperties: [],
      source,
      occurredAt: at,
    });
    return true;
  }

  notify(change: RecordChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
