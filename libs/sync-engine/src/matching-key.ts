import { normaliseEmail } from '@pm/connector-kit';
import type { MatchingKey, ObjectMapping } from '@pm/integration-port';
import { decodeCrmValue } from './field-mapping';
import type { LocalContact } from './ports';

/**
 * The matching key of a contact mapping. Unlinked records are matched on it first; a record it finds nothing for
 * (or that holds no key value) is matched by e-mail as with the default key, because PenguinMails keeps one contact
 * per e-mail and most CRMs refuse or duplicate a second record with one: a missing key value never creates a
 * duplicate. A record found by e-mail that holds a different key value is not taken (the key says the two differ).
 */
export function matchingKeyOf(mapping: ObjectMapping): MatchingKey {
  return mapping.matchKey ?? { local: 'email', crm: mapping.emailField };
}

/** Whether the mapping matches on the default key, the contact's e-mail ↔ the connector's e-mail field. */
export function matchesOnEmail(mapping: ObjectMapping): boolean {
  const key = matchingKeyOf(mapping);
  return key.local === 'email' && key.crm === mapping.emailField;
}

/** A key value in its compared form: an e-mail normalised, any other value trimmed; null when empty. */
function keyForm(key: MatchingKey, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (key.local === 'email') return normaliseEmail(value) ?? null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** The key value a CRM record holds (read as its mapping entry reads the field, if one does); null when none. */
export function crmKeyValue(mapping: ObjectMapping, fields: Record<string, unknown>): string | null {
  const key = matchingKeyOf(mapping);
  const entry = mapping.fields.find((candidate) => candidate.crm === key.crm && !candidate.associated);
  const codec = entry?.codec === 'primary_of_list' ? 'primary_of_list' : 'text';
  return keyForm(key, decodeCrmValue({ crm: key.crm, direction: 'both', codec }, fields));
}

/** The key value a local contact holds; null when none. */
export function localKeyValue(mapping: ObjectMapping, contact: LocalContact): string | null {
  const key = matchingKeyOf(mapping);
  return keyForm(key, key.local === 'email' ? contact.email : contact.values[key.local]);
}

/** Whether both hold a key value and the values differ: the record belongs to another contact. */
export function keysDiffer(
  mapping: ObjectMapping,
  contact: LocalContact,
  fields: Record<string, unknown>,
): boolean {
  const local = localKeyValue(mapping, contact);
  const crm = crmKeyValue(mapping, fields);
  return local !== null && crm !== null && local !== crm;
}
