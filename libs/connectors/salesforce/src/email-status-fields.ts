import type { EmailStatusFields } from '@pm/integration-port';

/**
 * Salesforce's own fields for a contact's address: the bounce fields Salesforce's e-mail bounce management sets
 * (`EmailBouncedReason`, `EmailBouncedDate`, writable through the API) and the opt-out checkbox. Contacts and leads
 * both have them.
 */
const CONTACT_OR_LEAD: EmailStatusFields = {
  bounced: { EmailBouncedReason: { fromEvent: 'reason' }, EmailBouncedDate: { fromEvent: 'occurredAt' } },
  unsubscribed: { HasOptedOutOfEmail: true },
};

export const SALESFORCE_EMAIL_STATUS_FIELDS: Readonly<Record<string, EmailStatusFields>> = {
  Contact: CONTACT_OR_LEAD,
  Lead: CONTACT_OR_LEAD,
};
