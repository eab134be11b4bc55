import type { EmailStatusFields } from '@pm/integration-port';

/**
 * A person's `marketing_status` (accepted where the company uses Pipedrive's Campaigns) holds an unsubscribe.
 * Pipedrive has no standard field for a bounce (custom fields are per-account hashes), so a bounce is only its
 * activity there.
 */
export const PIPEDRIVE_EMAIL_STATUS_FIELDS: Readonly<Record<string, EmailStatusFields>> = {
  persons: { unsubscribed: { marketing_status: 'unsubscribed' } },
};
