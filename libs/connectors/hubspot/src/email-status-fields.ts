import type { EmailStatusFields } from '@pm/integration-port';

/**
 * HubSpot's own bounce and opt-out properties (`hs_email_hard_bounce_reason_enum`, `hs_email_optout`) are read-only
 * through the CRM API, so PenguinMails writes its own contact properties. A portal needs them created once (the
 * properties API, group `contactinformation`); until then HubSpot refuses the write (`Property "…" does not exist`),
 * which the log shows, and the activity itself is still logged.
 */
export const HUBSPOT_EMAIL_STATUS_PROPERTIES = {
  bounceReason: 'penguinmails_bounce_reason',
  bouncedAt: 'penguinmails_bounced_at',
  unsubscribed: 'penguinmails_unsubscribed',
} as const;

export const HUBSPOT_EMAIL_STATUS_FIELDS: Readonly<Record<string, EmailStatusFields>> = {
  contacts: {
    bounced: {
      [HUBSPOT_EMAIL_STATUS_PROPERTIES.bounceReason]: { fromEvent: 'reason' },
      [HUBSPOT_EMAIL_STATUS_PROPERTIES.bouncedAt]: { fromEvent: 'occurredAt' },
    },
    unsubscribed: { [HUBSPOT_EMAIL_STATUS_PROPERTIES.unsubscribed]: 'true' },
  },
};
