// One list of a contact's text fields, kept with the field-mapping types in the port: the API edits these, and a
// connector's default mapping names them.
export { CONTACT_TEXT_FIELDS, type ContactTextField } from '@pm/integration-port';

/** What e-mail events said about a contact's address: a hard bounce, or the contact unsubscribed. */
export const CONTACT_EMAIL_STATUSES = ['bounced', 'unsubscribed'] as const;
export type ContactEmailStatus = (typeof CONTACT_EMAIL_STATUSES)[number];
