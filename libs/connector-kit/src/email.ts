/**
 * The one e-mail normaliser: matching keys compare e-mails trimmed and lower-cased (CRMs store and search e-mails
 * case-insensitively). Anything that is not a non-empty string is no e-mail.
 */
export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return email === '' ? undefined : email;
}

/** Normalised, de-duplicated, non-empty e-mails in first-seen order: the input of a look-up by e-mail. */
export function uniqueNormalisedEmails(values: Iterable<unknown>): string[] {
  const emails = new Set<string>();
  for (const value of values) {
    const email = normaliseEmail(value);
    if (email !== undefined) emails.add(email);
  }
  return [...emails];
}
