import type { WebhookEvent } from '@pm/integration-port';

/**
 * What a CRM says changed, from any channel (HubSpot and Pipedrive webhooks, Salesforce Change Data Capture). A
 * hint is not truth: the sync reads each named record's current state before applying anything, so a lost,
 * repeated, reordered or forged hint changes nothing wrong.
 */
export interface ChangeHint {
  connectionId: string;
  /** The CRM's own object name ('contacts', 'Contact', 'persons'). */
  object: string;
  crmIds: string[];
  action: WebhookEvent['action'];
  /** When the CRM says the change happened: the start of the end-to-end lag. */
  occurredAt: Date;
  /** The channel's own id for de-duplication (HubSpot eventId, a CDC replay id), where it has one. */
  eventId?: string;
}

/** Where every channel hands its hints: queues them for a targeted sync of the named records. */
export interface ChangeHintSink {
  accept(hints: readonly ChangeHint[]): Promise<void>;
}

/** DI token for the `ChangeHintSink`. */
export const CHANGE_HINT_SINK = Symbol('CHANGE_HINT_SINK');
