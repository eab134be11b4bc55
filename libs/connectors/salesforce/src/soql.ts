import { toUtcIso } from '@pm/connector-kit';

/** SOQL building blocks ("SOQL and SOSL Reference": quoted string escapes, dateTime literals). */

/** A quoted SOQL string literal: backslash and single quote escaped, control characters as escapes. */
export function soqlString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `'${escaped}'`;
}

/** A dateTime literal in UTC with milliseconds (`2026-01-05T09:00:00.000Z`), unquoted as SOQL requires. */
export function soqlDateTime(instant: string): string {
  const iso = toUtcIso(instant);
  // SOQL takes at most milliseconds; Salesforce stamps have millisecond precision, so nothing is lost.
  return iso.replace(/\.(\d{3})\d*Z$/, '.$1Z');
}

/** Field and object names go into SOQL unquoted: only API names are allowed (no injection through them). */
export function soqlName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/.test(name)) {
    throw new RangeError(`Not a Salesforce API name: "${name}"`);
  }
  return name;
}

/**
 * Literals grouped into `IN (…)` lists of at most `maxItems`, each list at most `maxChars` long once URL-encoded:
 * a query travels in the URL of `GET /query?q=`, which Salesforce caps (16,384 bytes, HTTP 414 beyond) well before
 * SOQL's own 100,000-character limit. A literal longer than `maxChars` goes alone.
 */
export function soqlInLists(literals: readonly string[], maxItems: number, maxChars: number): string[][] {
  const lists: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const literal of literals) {
    // ", " between literals, encoded (%2C%20).
    const size = encodeURIComponent(literal).length + 6;
    if (current.length > 0 && (current.length >= maxItems || length + size > maxChars)) {
      lists.push(current);
      current = [];
      length = 0;
    }
    current.push(literal);
    length += size;
  }
  if (current.length > 0) lists.push(current);
  return lists;
}
