import {
  customFieldName,
  isLocalContactField,
  type FieldDescriptor,
  type ObjectMapping,
} from '@pm/integration-port';

/** As `mapping-validation`'s (declared here too: that module imports this one). */
interface MappingProblem {
  name: string;
  reason: string;
}

/** CRM field types that can hold a matching key: text-like values and numbers, compared as text. */
const KEY_TYPES = new Set(['string', 'text', 'email', 'phone', 'url', 'number', 'id']);
/** CRM field types an e-mail can be matched against. */
const EMAIL_KEY_TYPES = new Set(['string', 'text', 'email']);

/**
 * Problems of a contact mapping's matching key, named as the API names its two sides: `matchField` (the CRM field)
 * and `matchLocalField` (the PenguinMails field). The default key (the e-mail ↔ the connector's e-mail field) is
 * checked only for existing and holding an e-mail; with a key of the mapping's own, no entry may write either side
 * from another field (that would rewrite the key). Every connector looks records up by any field (`findByField`).
 */
export function matchingKeyProblems(
  mapping: ObjectMapping,
  byName: ReadonlyMap<string, FieldDescriptor>,
  context: { defaults?: ObjectMapping; crmName: string },
): MappingProblem[] {
  const key = mapping.matchKey ?? { local: 'email', crm: mapping.emailField };
  const problems: MappingProblem[] = [];
  const own = mapping.matchKey !== undefined;
  if (
    own &&
    key.local !== 'email' &&
    (customFieldName(key.local) === undefined || !isLocalContactField(key.local))
  ) {
    problems.push({
      name: 'matchLocalField',
      reason: `"${key.local}" cannot be matched on: use email or a contact custom field (customFields.<name>)`,
    });
  }
  const field = byName.get(key.crm);
  const types = key.local === 'email' ? EMAIL_KEY_TYPES : KEY_TYPES;
  if (!field) {
    problems.push({ name: 'matchField', reason: `"${key.crm}" is not a field of ${mapping.object}` });
  } else if (!types.has(field.type)) {
    problems.push({
      name: 'matchField',
      reason:
        key.local === 'email'
          ? `"${key.crm}" is a ${field.type} field; records are matched on an e-mail`
          : `"${key.crm}" is a ${field.type} field; a matching key must be a text, e-mail, phone, number or id field`,
    });
  } else if (
    !own &&
    context.defaults &&
    key.crm !== context.defaults.emailField &&
    context.defaults.emailField !== ''
  ) {
    // Unreachable through the API (which stores a key other than the default as `matchKey`); kept for callers
    // that set emailField directly.
    problems.push({
      name: 'matchField',
      reason: `"${key.crm}" is not ${context.crmName}'s e-mail field "${context.defaults.emailField}"`,
    });
  }
  // Entries are checked against a sound key only: against an unusable one they would add noise, not news.
  if (own && problems.length === 0) problems.push(...conflictingWrites(mapping, key));
  return problems;
}

/** Entries that would write one side of the key from a field other than the key's other side. */
function conflictingWrites(mapping: ObjectMapping, key: { local: string; crm: string }): MappingProblem[] {
  const problems: MappingProblem[] = [];
  mapping.fields.forEach((entry, index) => {
    const toCrm = entry.direction !== 'from_crm';
    const fromCrm = entry.direction !== 'to_crm';
    if (entry.crm === key.crm && toCrm && (entry.formula?.toCrm || entry.local !== key.local)) {
      problems.push({
        name: `fields[${index}].crm`,
        reason: `"${key.crm}" is the matching key, matched against ${key.local}; writing it from ${entry.formula?.toCrm ? 'a formula' : (entry.local ?? 'nothing')} would change the key (use from_crm, or map it from ${key.local})`,
      });
    }
    // The contact's e-mail is written from the connector's e-mail field whatever the key: only a custom field is
    // the key's alone.
    if (
      key.local !== 'email' &&
      entry.local === key.local &&
      fromCrm &&
      !entry.associated &&
      (entry.formula?.fromCrm || entry.crm !== key.crm)
    ) {
      problems.push({
        name: `fields[${index}].local`,
        reason: `${key.local} is the matching key, matched against "${key.crm}"; writing it from ${entry.formula?.fromCrm ? 'a formula' : `"${entry.crm ?? ''}"`} would change the key (use to_crm, or map it from "${key.crm}")`,
      });
    }
  });
  return problems;
}
