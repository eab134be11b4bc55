// CRM search: request validation, filter evaluation, sorting and paging.
// Follows https://developers.hubspot.com/docs/api/crm/search: filterGroups are ORed, filters inside a group are
// ANDed; at most 5 groups, 6 filters per group, 18 filters in all; one sort; limit ≤ 200; `after` is an offset and
// a query cannot page past 10,000 results (400). Pure functions, so they are unit-tested without HTTP.
import { validationError } from './errors';
import type { PropertyType } from './properties';

export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_DEFAULT_LIMIT = 10;
export const SEARCH_RESULT_CAP = 10_000;
export const SEARCH_MAX_FILTER_GROUPS = 5;
export const SEARCH_MAX_FILTERS_PER_GROUP = 6;
export const SEARCH_MAX_FILTERS_TOTAL = 18;
/** Values one IN or NOT_IN filter may list. */
export const SEARCH_MAX_IN_VALUES = 100;

export const FILTER_OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface SearchFilter {
  propertyName: string;
  operator: FilterOperator;
  value?: string;
  highValue?: string;
  values?: string[];
}

export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

export interface SearchRequest {
  filterGroups: Array<{ filters: SearchFilter[] }>;
  sorts: SearchSort[];
  query?: string;
  properties?: string[];
  limit: number;
  offset: number;
}

/** What search needs from a stored record. */
export interface SearchableRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
}

/** Tells the evaluator how to compare a property's values; unknown properties are refused before this runs. */
export type PropertyTypeLookup = (propertyName: string) => PropertyType | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Checks a search body the way HubSpot does and normalises it. Throws HubSpotApiError (400) on anything HubSpot
 * refuses: unknown operators or properties, too many filters, limit over 200, `after` at or past 10,000.
 */
export function parseSearchRequest(body: unknown, propertyType: PropertyTypeLookup): SearchRequest {
  const input = isRecord(body) ? body : {};
  const rawGroups = input.filterGroups ?? [];
  if (!Array.isArray(rawGroups)) throw validationError('filterGroups must be an array');
  if (rawGroups.length > SEARCH_MAX_FILTER_GROUPS) {
    throw validationError(
      `The request contains ${rawGroups.length} filterGroups, but the maximum allowed is ${SEARCH_MAX_FILTER_GROUPS}.`,
      { subCategory: 'TOO_MANY_FILTER_GROUPS' },
    );
  }
  let totalFilters = 0;
  const filterGroups = rawGroups.map((rawGroup: unknown) => {
    const rawFilters = isRecord(rawGroup) && Array.isArray(rawGroup.filters) ? rawGroup.filters : [];
    if (rawFilters.length > SEARCH_MAX_FILTERS_PER_GROUP) {
      throw validationError(
        `A filterGroup contains ${rawFilters.length} filters, but the maximum allowed is ${SEARCH_MAX_FILTERS_PER_GROUP}.`,
        { subCategory: 'TOO_MANY_FILTERS_IN_GROUP' },
      );
    }
    totalFilters += rawFilters.length;
    return { filters: rawFilters.map((rawFilter: unknown) => parseFilter(rawFilter, propertyType)) };
  });
  if (totalFilters > SEARCH_MAX_FILTERS_TOTAL) {
    throw validationError(
      `The request contains ${totalFilters} filters, but the maximum allowed is ${SEARCH_MAX_FILTERS_TOTAL}.`,
      { subCategory: 'TOO_MANY_FILTERS' },
    );
  }

  const rawSorts = input.sorts ?? [];
  if (!Array.isArray(rawSorts)) throw validationError('sorts must be an array');
  if (rawSorts.length > 1) throw validationError('Only one sort is supported per search request.');
  const sorts = rawSorts.map((rawSort: unknown) => parseSort(rawSort, propertyType));

  const limit =
    input.limit === undefined || input.limit === null ? SEARCH_DEFAULT_LIMIT : Number(input.limit);
  if (!Number.isInteger(limit) || limit < 0) throw validationError(`Invalid limit: ${String(input.limit)}`);
  if (limit > SEARCH_MAX_LIMIT) {
    throw validationError(`limit must be less than or equal to ${SEARCH_MAX_LIMIT}, but was ${limit}`);
  }

  const rawAfter = scalarToString(input.after);
  const offset = rawAfter === undefined || rawAfter === '' ? 0 : Number(rawAfter);
  if (!Number.isInteger(offset) || offset < 0) throw validationError(`Invalid after: ${rawAfter}`);
  if (offset >= SEARCH_RESULT_CAP) {
    // HubSpot refuses to page past the 10,000th result of any one query.
    throw validationError(
      `Paging past ${SEARCH_RESULT_CAP} results is not supported. after=${offset} exceeds the limit of the search API.`,
      { subCategory: 'SEARCH_RESULT_LIMIT_EXCEEDED' },
    );
  }

  const properties = Array.isArray(input.properties)
    ? input.properties
        .map((name) => scalarToString(name))
        .filter((name): name is string => name !== undefined)
    : undefined;
  const query = typeof input.query === 'string' && input.query.trim() !== '' ? input.query.trim() : undefined;
  return {
    filterGroups,
    sorts,
    limit,
    offset,
    ...(query ? { query } : {}),
    ...(properties ? { properties } : {}),
  };
}

function parseFilter(rawFilter: unknown, propertyType: PropertyTypeLookup): SearchFilter {
  if (!isRecord(rawFilter)) throw validationError('Each filter must be an object');
  const propertyName = scalarToString(rawFilter.propertyName);
  if (!propertyName) throw validationError('Filter is missing propertyName');
  const operator = scalarToString(rawFilter.operator) ?? 'EQ';
  if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
    throw validationError(`Unknown filter operator: ${operator}`);
  }
  if (!propertyType(propertyName)) {
    throw validationError(`There was a problem with the request. Unknown property: ${propertyName}`, {
      context: { propertyName: [propertyName] },
    });
  }
  const filter: SearchFilter = { propertyName, operator: operator as FilterOperator };
  const value = scalarToString(rawFilter.value);
  const highValue = scalarToString(rawFilter.highValue);
  if (value !== undefined) filter.value = value;
  if (highValue !== undefined) filter.highValue = highValue;
  if (Array.isArray(rawFilter.values)) {
    filter.values = rawFilter.values.map(scalarToString).filter((item): item is string => item !== undefined);
  }
  const needsValue = !['HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'IN', 'NOT_IN'].includes(filter.operator);
  if (needsValue && filter.value === undefined) {
    throw validationError(`Filter on ${propertyName} with operator ${operator} requires a value`);
  }
  if (filter.operator === 'BETWEEN' && filter.highValue === undefined) {
    throw validationError(`Filter on ${propertyName} with operator BETWEEN requires a highValue`);
  }
  if ((filter.operator === 'IN' || filter.operator === 'NOT_IN') && !filter.values?.length) {
    throw validationError(`Filter on ${propertyName} with operator ${operator} requires values`);
  }
  if ((filter.values?.length ?? 0) > SEARCH_MAX_IN_VALUES) {
    throw validationError(
      `Filter on ${propertyName} with operator ${operator} has ${filter.values?.length} values, but the maximum allowed is ${SEARCH_MAX_IN_VALUES}.`,
      { subCategory: 'TOO_MANY_VALUES' },
    );
  }
  return filter;
}

function parseSort(rawSort: unknown, propertyType: PropertyTypeLookup): SearchSort {
  // The SDK types sorts as strings, so callers send a property name ("-name" for descending) or the
  // {propertyName, direction} object, either as an object or JSON-encoded in the string.
  if (typeof rawSort === 'string' && rawSort.trim().startsWith('{')) {
    try {
      rawSort = JSON.parse(rawSort) as unknown;
    } catch {
      throw validationError(`Invalid sort: ${rawSort}`);
    }
  }
  let propertyName: string | undefined;
  let direction: SearchSort['direction'] = 'ASCENDING';
  if (typeof rawSort === 'string') {
    propertyName = rawSort.startsWith('-') ? rawSort.slice(1) : rawSort;
    if (rawSort.startsWith('-')) direction = 'DESCENDING';
  } else if (isRecord(rawSort)) {
    propertyName = scalarToString(rawSort.propertyName);
    const rawDirection = scalarToString(rawSort.direction) ?? 'ASCENDING';
    if (rawDirection !== 'ASCENDING' && rawDirection !== 'DESCENDING') {
      throw validationError(`Unknown sort direction: ${rawDirection}`);
    }
    direction = rawDirection;
  }
  if (!propertyName) throw validationError('Sort is missing propertyName');
  if (!propertyType(propertyName)) throw validationError(`Unknown sort property: ${propertyName}`);
  return { propertyName, direction };
}

/** A property value in a form that compares correctly for its type: epoch ms, numbers, or lower-case text. */
type Comparable = number | string;

function comparableValue(raw: string, type: PropertyType | undefined): Comparable | undefined {
  if (type === 'datetime' || type === 'date') {
    // Filters send epoch milliseconds or ISO 8601; stored values are ISO 8601.
    const asNumber = Number(raw);
    const ms = raw.trim() !== '' && Number.isFinite(asNumber) ? asNumber : Date.parse(raw);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (type === 'number') {
    const asNumber = Number(raw);
    return raw.trim() !== '' && Number.isFinite(asNumber) ? asNumber : undefined;
  }
  // HubSpot matches text case-insensitively (it indexes lower-cased values).
  return raw.toLowerCase();
}

function compare(left: Comparable, right: Comparable): number {
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  const leftText = String(left);
  const rightText = String(right);
  return leftText < rightText ? -1 : leftText > rightText ? 1 : 0;
}

function hasValue(value: string | null | undefined): value is string {
  return value !== undefined && value !== null && value !== '';
}

function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** CONTAINS_TOKEN: a whole-word match, where `*` is a wildcard (`*@example.com`). */
function containsToken(value: string, token: string): boolean {
  const pattern = wildcardToRegExp(token.trim());
  if (pattern.test(value)) return true;
  return value.split(/[\s,;]+/).some((word) => word !== '' && pattern.test(word));
}

/** Whether one record passes one filter. NEQ and NOT_IN also match records without the property, as in HubSpot. */
export function matchesFilter(
  record: SearchableRecord,
  filter: SearchFilter,
  propertyType: PropertyTypeLookup,
): boolean {
  const raw = record.properties[filter.propertyName];
  const type = propertyType(filter.propertyName);
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return hasValue(raw);
    case 'NOT_HAS_PROPERTY':
      return !hasValue(raw);
    case 'CONTAINS_TOKEN':
      return hasValue(raw) && containsToken(raw, filter.value ?? '');
    case 'NOT_CONTAINS_TOKEN':
      return !hasValue(raw) || !containsToken(raw, filter.value ?? '');
    case 'IN':
    case 'NOT_IN': {
      const actual = hasValue(raw) ? comparableValue(raw, type) : undefined;
      const found =
        actual !== undefined &&
        (filter.values ?? []).some((candidate) => {
          const expected = comparableValue(candidate, type);
          return expected !== undefined && compare(actual, expected) === 0;
        });
      return filter.operator === 'IN' ? found : !found;
    }
    default:
      break;
  }
  const actual = hasValue(raw) ? comparableValue(raw, type) : undefined;
  const expected = comparableValue(filter.value ?? '', type);
  if (filter.operator === 'NEQ') {
    return actual === undefined || expected === undefined || compare(actual, expected) !== 0;
  }
  if (actual === undefined || expected === undefined) return false;
  const order = compare(actual, expected);
  switch (filter.operator) {
    case 'EQ':
      return order === 0;
    case 'LT':
      return order < 0;
    case 'LTE':
      return order <= 0;
    case 'GT':
      return order > 0;
    case 'GTE':
      return order >= 0;
    case 'BETWEEN': {
      const high = comparableValue(filter.highValue ?? '', type);
      return high !== undefined && order >= 0 && compare(actual, high) <= 0;
    }
    default:
      return false;
  }
}

/** filterGroups are ORed; the filters of one group are ANDed. No groups matches everything. */
export function matchesFilterGroups(
  record: SearchableRecord,
  filterGroups: SearchRequest['filterGroups'],
  propertyType: PropertyTypeLookup,
): boolean {
  if (filterGroups.length === 0) return true;
  return filterGroups.some((group) =>
    group.filters.every((filter) => matchesFilter(record, filter, propertyType)),
  );
}

/** Free-text `query`: a prefix match on any word of the object's searchable text properties. */
export function matchesQuery(
  record: SearchableRecord,
  query: string,
  searchableProperties: readonly string[],
): boolean {
  const needle = query.toLowerCase();
  return searchableProperties.some((name) => {
    const value = record.properties[name];
    if (!hasValue(value)) return false;
    const lower = value.toLowerCase();
    return lower.startsWith(needle) || lower.split(/[\s@.,-]+/).some((word) => word.startsWith(needle));
  });
}

function numericId(id: string): number {
  const parsed = Number(id);
  return Number.isFinite(parsed) ? parsed : Number.MAX_SAFE_INTEGER;
}

/**
 * Sorts by the requested property, records without a value last, then by id so that paging through many records
 * sharing one timestamp is stable. Without a sort, results come in id order.
 */
export function sortRecords<T extends SearchableRecord>(
  records: readonly T[],
  sorts: readonly SearchSort[],
  propertyType: PropertyTypeLookup,
): T[] {
  const byId = (left: T, right: T): number => numericId(left.id) - numericId(right.id);
  const sort = sorts[0];
  if (!sort) return [...records].sort(byId);
  const type = propertyType(sort.propertyName);
  const sign = sort.direction === 'DESCENDING' ? -1 : 1;
  const keyed = records.map((record) => {
    const raw = record.properties[sort.propertyName];
    return { record, key: hasValue(raw) ? comparableValue(raw, type) : undefined };
  });
  keyed.sort((left, right) => {
    if (left.key === undefined && right.key === undefined) return byId(left.record, right.record);
    if (left.key === undefined) return 1;
    if (right.key === undefined) return -1;
    return sign * compare(left.key, right.key) || byId(left.record, right.record);
  });
  return keyed.map((entry) => entry.record);
}

/** Property types whose values an index holds lower-cased, as the search compares them. */
const INDEXABLE_TYPES = new Set<PropertyType | undefined>(['string', 'enumeration']);

/**
 * The property values each filter group pins its records to (an EQ or IN filter on a text property), so the search
 * can start from an index on that property rather than every record; undefined when some group pins none (every
 * record must then be looked at). Values are lower-cased, as the search compares text.
 */
export function pinnedValues(
  request: SearchRequest,
  propertyType: PropertyTypeLookup,
): Array<{ propertyName: string; keys: string[] }> | undefined {
  if (request.filterGroups.length === 0) return undefined;
  const pins: Array<{ propertyName: string; keys: string[] }> = [];
  for (const group of request.filterGroups) {
    const pin = group.filters.find(
      (filter) =>
        (filter.operator === 'EQ' || filter.operator === 'IN') &&
        INDEXABLE_TYPES.has(propertyType(filter.propertyName)),
    );
    if (pin === undefined) return undefined;
    const values = pin.operator === 'EQ' ? [pin.value ?? ''] : (pin.values ?? []);
    pins.push({ propertyName: pin.propertyName, keys: values.map((value) => value.toLowerCase()) });
  }
  return pins;
}

export interface SearchPage<T> {
  total: number;
  results: T[];
  /** The `after` of the next page, absent on the last page. */
  nextAfter?: string;
}

/** Runs a parsed search over a set of records. */
export function runSearch<T extends SearchableRecord>(
  records: readonly T[],
  request: SearchRequest,
  propertyType: PropertyTypeLookup,
  searchableProperties: readonly string[] = [],
): SearchPage<T> {
  const matching = records.filter(
    (record) =>
      matchesFilterGroups(record, request.filterGroups, propertyType) &&
      (request.query === undefined || matchesQuery(record, request.query, searchableProperties)),
  );
  const sorted = sortRecords(matching, request.sorts, propertyType);
  const end = request.offset + request.limit;
  const results = sorted.slice(request.offset, end);
  // Like HubSpot, the next cursor is offered even when it points at the 10,000 cap; using it gets the 400.
  return { total: sorted.length, results, ...(end < sorted.length ? { nextAfter: String(end) } : {}) };
}
