import type { FieldDescriptor, FieldType } from '@pm/integration-port';
import { objectSpec } from './objects';
import type { SessionConnection } from './session-connection';

/** The part of a describe field this connector reads ("sObject Describe" → `fields[]`). */
interface DescribeField {
  name: string;
  label: string;
  type: string;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  defaultedOnCreate: boolean;
  custom: boolean;
  calculated?: boolean;
  picklistValues?: { value: string; label: string | null; active: boolean }[];
}

const FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  string: 'string',
  textarea: 'text',
  encryptedstring: 'string',
  email: 'email',
  phone: 'phone',
  url: 'url',
  double: 'number',
  currency: 'number',
  percent: 'number',
  int: 'number',
  long: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  picklist: 'picklist',
  combobox: 'picklist',
  multipicklist: 'multipicklist',
  reference: 'reference',
  id: 'id',
};

export function toFieldDescriptor(field: DescribeField): FieldDescriptor {
  const type = FIELD_TYPES[field.type] ?? 'other';
  const options = (field.picklistValues ?? [])
    .filter((option) => option.active !== false)
    .map((option) => ({ value: option.value, label: option.label ?? option.value }));
  return {
    name: field.name,
    label: field.label,
    type,
    crmType: field.type,
    // Salesforce's "required on create": not nillable, settable, and not filled in by Salesforce itself.
    required:
      !field.nillable &&
      field.createable &&
      !field.defaultedOnCreate &&
      field.type !== 'boolean' &&
      !field.calculated,
    readOnly: !field.createable && !field.updateable,
    custom: field.custom,
    ...(options.length > 0 ? { options } : {}),
  };
}

/** Standard and custom fields of an object (`GET /sobjects/{T}/describe`). */
export async function describeObject(
  connection: SessionConnection,
  object: string,
  catalog?: FieldCatalog,
): Promise<FieldDescriptor[]> {
  const name = objectSpec(object)?.capability.name ?? object;
  const described = await connection.call((conn) => conn.describe(name));
  catalog?.remember(connection, name, described.fields);
  return (described.fields as unknown as DescribeField[]).map(toFieldDescriptor);
}

/** What the catalog keeps of one field: enough to refuse a write or build a filter without another describe. */
export interface CatalogField {
  name: string;
  /** Salesforce's own type (`string`, `email`, `double`, `reference`, …). */
  type: string;
  /** Whether SOQL may filter on it (long text areas, for one, may not). */
  filterable: boolean;
}

interface CatalogEntry {
  fields: Map<string, CatalogField>;
  fetchedAtMs: number;
}

/** Fields per object and org, kept briefly so each write batch or look-up does not cost a describe call. */
export class FieldCatalog {
  private readonly entries = new Map<string, CatalogEntry>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    /** A cached answer younger than this is trusted even when it lacks a field (no re-describe storm). */
    private readonly minRefreshMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Lower-cased field names of the object that are not in its describe, or [] when all exist. An unknown name makes
   * the catalog describe again once (an admin may just have added the field) before it is reported.
   */
  async unknownFields(
    connection: SessionConnection,
    object: string,
    names: Iterable<string>,
  ): Promise<string[]> {
    const wanted = [...new Set([...names].map((name) => name.toLowerCase()))];
    let entry = await this.entry(connection, object, false);
    let unknown = wanted.filter((name) => !entry.fields.has(name));
    if (unknown.length > 0 && this.now() - entry.fetchedAtMs >= this.minRefreshMs) {
      entry = await this.entry(connection, object, true);
      unknown = wanted.filter((name) => !entry.fields.has(name));
    }
    return unknown;
  }

  /** One field of the object as its describe states it (described again once if unknown); undefined if none. */
  async field(
    connection: SessionConnection,
    object: string,
    name: string,
  ): Promise<CatalogField | undefined> {
    if ((await this.unknownFields(connection, object, [name])).length > 0) return undefined;
    return (await this.entry(connection, object, false)).fields.get(name.toLowerCase());
  }

  /** Records a describe made for another reason (describeObject), so writes after it need none. */
  remember(
    connection: SessionConnection,
    object: string,
    fields: readonly { name: string; type?: string; filterable?: boolean }[],
  ): void {
    this.entries.set(this.key(connection, object), {
      fields: new Map(
        fields.map((field) => [
          field.name.toLowerCase(),
          { name: field.name, type: field.type ?? 'string', filterable: field.filterable !== false },
        ]),
      ),
      fetchedAtMs: this.now(),
    });
  }

  private async entry(
    connection: SessionConnection,
    object: string,
    refresh: boolean,
  ): Promise<CatalogEntry> {
    const key = this.key(connection, object);
    const cached = this.entries.get(key);
    if (!refresh && cached && this.now() - cached.fetchedAtMs < this.ttlMs) return cached;
    const described = await connection.call((conn) => conn.describe(object));
    this.remember(connection, object, described.fields);
    return this.entries.get(key) as CatalogEntry;
  }

  private key(connection: SessionConnection, object: string): string {
    // The instance URL (a My Domain) is unique per org; the version decides which fields exist.
    return `${connection.baseUrl}|${object.toLowerCase()}`;
  }
}
