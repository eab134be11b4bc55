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
