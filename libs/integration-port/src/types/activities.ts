import type { RecordError } from './records';

/** E-mail activities logged into the CRM. */

export type ActivityKind =
  | 'email_sent'
  | 'email_received'
  | 'email_opened'
  | 'email_clicked'
  | 'email_replied'
  | 'email_bounced';

export interface ActivityInput {
  /** Idempotency key from PenguinMails (message id + event); a redelivered activity is not logged twice. */
  key: string;
  kind: ActivityKind;
  occurredAt: string;
  subject?: string;
  bodyText?: string;
  from?: string;
  to?: string[];
  /** The CRM record the activity belongs to. */
  contact: { crmId: string; object: string; email: string };
  companyCrmId?: string;
  /**
   * The CRM record this activity already is (from an earlier delivery): the connector updates that record instead
   * of creating one. Used for a message's roll-up record, which every later open or click updates.
   */
  crmId?: string;
  /** A message's opens and clicks so far, for the roll-up record (its text is in `bodyText`). */
  engagement?: ActivityEngagement;
}

export interface ActivityEngagement {
  opens: number;
  clicks: number;
  /** ISO-8601 UTC time of the latest open or click. */
  lastEventAt: string;
}

export type ActivityResult =
  | { key: string; ok: true; crmId: string }
  | { key: string; ok: false; error: RecordError };
