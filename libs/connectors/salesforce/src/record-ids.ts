import type { SalesforceObjectSpec } from './objects';

/**
 * Salesforce record ids ("Working with Record IDs"): 15 case-sensitive alphanumerics, or the 18-character form with a
 * 3-character case-insensitive suffix. The first 15 characters identify the record in both forms.
 */
const RECORD_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

export function isRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}

/** The key one record has whichever form (15 or 18 characters) the caller used. */
export function recordKey(id: string): string {
  return id.slice(0, 15);
}

/** Whether a well-formed id can belong to the object (its key prefix matches; unknown objects are not checked). */
export function belongsTo(spec: SalesforceObjectSpec | undefined, id: string): boolean {
  return spec === undefined || id.slice(0, 3) === spec.keyPrefix;
}
