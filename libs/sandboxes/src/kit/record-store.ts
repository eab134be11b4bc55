import { SandboxClock } from './clock';

/** What remains of a deleted record, for the CRMs' deletion feeds (Salesforce getDeleted, archived lists). */
export interface Tombstone<T = unknown> {
  id: string;
  deletedAt: Date;
  /** The record as it was when deleted (some CRMs return it in their deleted feeds or archived=true lists). */
  record: T;
}

export interface RecordStoreOptions {
  /** Source of `deletedAt` for tombstones; a fresh running clock if omitted. */
  clock?: SandboxClock;
}

/**
 * In-memory table of one object type. Iteration order is insertion order, which is stable, so list endpoints
 * page deterministically. Records are stored as given and returned by reference: treat returned records as
 * read-only and change them through `update()`, which replaces the stored object (so a caller holding the old
 * object keeps a consistent snapshot). Ids are made by the CRM module, never here.
 */
export class RecordStore<T extends { id: string }> {
  private readonly records = new Map<string, T>();
  private readonly tombstones = new Map<string, Tombstone<T>>();
  private readonly clock: SandboxClock;
  private changeCount = 0;
  /** Secondary indexes (see `index`): key → ids, kept in step with every write. */
  private readonly indexes = new Map<
    string,
    { keysOf: (record: T) => string[]; ids: Map<string, Set<string>> }
  >();

  constructor(
    readonly name: string,
    options: RecordStoreOptions = {},
  ) {
    this.clock = options.clock ?? new SandboxClock();
  }

  /** Adds a record; throws if the id is taken (a CRM never reuses ids). */
  insert(record: T): T {
    if (this.records.has(record.id)) throw new Error(`${this.name}: duplicate id ${record.id}`);
    this.records.set(record.id, record);
    this.indexRecord(record);
    this.tombstones.delete(record.id);
    this.changeCount++;
    return record;
  }

  insertMany(records: Iterable<T>): T[] {
    const inserted: T[] = [];
    for (const record of records) inserted.push(this.insert(record));
    return inserted;
  }

  get(id: string): T | undefined {
    return this.records.get(id);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  /** Shallow-merges `patch` into the record; returns the new record, or undefined when there is none. */
  update(id: string, patch: Partial<T>): T | undefined {
    const current = this.records.get(id);
    if (!current) return undefined;
    const next = { ...current, ...patch, id: current.id };
    this.unindexRecord(current);
    this.records.set(id, next);
    this.indexRecord(next);
    this.changeCount++;
    return next;
  }

  /** Replaces the whole record (keeps its position in the iteration order). */
  replace(record: T): T {
    const current = this.records.get(record.id);
    if (!current) throw new Error(`${this.name}: no record ${record.id} to replace`);
    this.unindexRecord(current);
    this.records.set(record.id, record);
    this.indexRecord(record);
    this.changeCount++;
    return record;
  }

  /** Removes the record and keeps a tombstone; returns the tombstone, or undefined when there was no record. */
  delete(id: string, deletedAt: Date = this.clock.now()): Tombstone<T> | undefined {
    const current = this.records.get(id);
    if (!current) return undefined;
    this.records.delete(id);
    this.unindexRecord(current);
    const tombstone: Tombstone<T> = { id, deletedAt, record: current };
    this.tombstones.set(id, tombstone);
    this.changeCount++;
    return tombstone;
  }

  /**
   * Removes the record (live or in the recycle bin) and leaves no tombstone: gone as if it never was (a purge, an
   * account restored from an older backup), so no change read or recycle bin reports it. False when there was none.
   */
  purge(id: string): boolean {
    // Through delete(), so all the store keeps beside its records forgets the record too; then the tombstone goes,
    // as does one already in the recycle bin (Salesforce's hard delete, an emptied bin).
    const wasLive = this.delete(id) !== undefined;
    const hadTombstone = this.tombstones.delete(id);
    if (hadTombstone && !wasLive) this.changeCount++;
    return wasLive || hadTombstone;
  }

  /** Puts a deleted record back (Salesforce undelete, HubSpot restore). */
  restore(id: string): T | undefined {
    const tombstone = this.tombstones.get(id);
    if (!tombstone) return undefined;
    this.tombstones.delete(id);
    this.records.set(id, tombstone.record);
    this.indexRecord(tombstone.record);
    this.changeCount++;
    return tombstone.record;
  }

  /** All live records in insertion order. */
  all(): T[] {
    return [...this.records.values()];
  }

  values(): IterableIterator<T> {
    return this.records.values();
  }

  filter(predicate: (record: T) => boolean): T[] {
    const matches: T[] = [];
    for (const record of this.records.values()) if (predicate(record)) matches.push(record);
    return matches;
  }

  find(predicate: (record: T) => boolean): T | undefined {
    for (const record of this.records.values()) if (predicate(record)) return record;
    return undefined;
  }

  /** All records sorted by `compare`; ties keep insertion order (Array.prototype.sort is stable). */
  sorted(compare: (a: T, b: T) => number): T[] {
    return this.all().sort(compare);
  }

  /** Tombstones in deletion order. */
  deleted(): Tombstone<T>[] {
    return [...this.tombstones.values()];
  }

  getDeleted(id: string): Tombstone<T> | undefined {
    return this.tombstones.get(id);
  }

  get size(): number {
    return this.records.size;
  }

  clear(): void {
    this.records.clear();
    this.tombstones.clear();
    for (const index of this.indexes.values()) index.ids.clear();
    this.changeCount++;
  }

  /**
   * Keeps live records findable by the keys `keysOf` gives (e-mail addresses, say), as the CRM's own search index
   * does, so a look-up by key costs no scan of every record.
   */
  index(name: string, keysOf: (record: T) => string[]): void {
    const index = { keysOf, ids: new Map<string, Set<string>>() };
    this.indexes.set(name, index);
    for (const record of this.records.values()) this.indexRecord(record, index);
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /** The live records holding `key` in the index `name`, by id ascending. */
  lookup(name: string, key: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`${this.name}: no index ${name}`);
    return [...(index.ids.get(key) ?? [])]
      .sort(compareIds)
      .map((id) => this.records.get(id))
      .filter((record): record is T => record !== undefined);
  }

  private indexRecord(
    record: T,
    only?: { keysOf: (record: T) => string[]; ids: Map<string, Set<string>> },
  ): void {
    for (const index of only ? [only] : this.indexes.values()) {
      for (const key of index.keysOf(record)) {
        const ids = index.ids.get(key) ?? new Set<string>();
        ids.add(record.id);
        index.ids.set(key, ids);
      }
    }
  }

  private unindexRecord(record: T): void {
    for (const index of this.indexes.values()) {
      for (const key of index.keysOf(record)) {
        const ids = index.ids.get(key);
        ids?.delete(record.id);
        if (ids?.size === 0) index.ids.delete(key);
      }
    }
  }

  /**
   * Increases on every write (insert, update, replace, delete, restore, clear), so list endpoints can cache a
   * sorted view and rebuild it only when the data changed.
   */
  get version(): number {
    return this.changeCount;
  }
}

export type SortKey = string | number | boolean | Date | null | undefined;

/** Compares two sort keys: undefined/null first, then numbers, dates, booleans and strings by value. */
export function compareKeys(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  const left = a instanceof Date ? a.getTime() : a;
  const right = b instanceof Date ? b.getTime() : b;
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  const l = String(left);
  const r = String(right);
  return l < r ? -1 : l > r ? 1 : 0;
}

export interface SortSpec<T> {
  key: (record: T) => SortKey;
  direction?: 'asc' | 'desc';
}

/**
 * Builds a comparator over several keys, e.g. `compareBy({ key: (p) => p.update_time }, { key: (p) => p.id })`.
 * End every sort with a unique key (the id) so paging is stable even when thousands of records share a timestamp.
 */
export function compareBy<T>(
  ...specs: Array<SortSpec<T> | ((record: T) => SortKey)>
): (a: T, b: T) => number {
  const normalized = specs.map((spec) =>
    typeof spec === 'function' ? { key: spec, direction: 'asc' } : spec,
  );
  return (a, b) => {
    for (const spec of normalized) {
      const result = compareKeys(spec.key(a), spec.key(b));
      if (result !== 0) return spec.direction === 'desc' ? -result : result;
    }
    return 0;
  };
}

/** Compares numeric ids ("12" < "100") numerically and other ids as strings. */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Opaque cursor for list endpoints: base64url of JSON. Returns undefined for a cursor that does not decode. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<C = unknown>(cursor: string): C | undefined {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as C;
  } catch {
    return undefined;
  }
}
