import type { ActivityEventType } from '@pm/domain';
import type { ActivityInput, ActivityKind, EmailStatusFields, EmailStatusValue } from '@pm/integration-port';
import type { DeliverableEvent, LinkedRecord, MessageEngagement } from './activity.repository';

/** One CRM write and the deliveries it settles. */
export interface PlannedActivity {
  input: ActivityInput;
  deliveryIds: string[];
  /** The log line's name for it ("Email Opened"). */
  label: string;
  /** Set for a message's roll-up record: stored so the next open or click updates the same record. */
  rollUp?: { messageId: string; engagement: MessageEngagement };
}

/** Fields an e-mail event sets on the CRM contact (an unsubscribe, a hard bounce), merged per contact. */
export interface PlannedContactUpdate {
  object: string;
  crmId: string;
  email: string;
  fields: Record<string, unknown>;
  /** The log line's names for it ("Email Unsubscribed"). */
  labels: string[];
  /** Deliveries this write settles (an unsubscribe); a bounce is settled by its own activity record. */
  deliveryIds: string[];
}

export interface DeliveryPlan {
  activities: PlannedActivity[];
  contactUpdates: PlannedContactUpdate[];
  /** Deliveries whose contact is not linked in this CRM yet. */
  held: string[];
  /**
   * Deliveries the CRM has no place for (a delivery receipt; an unsubscribe where the CRM has no opt-out field):
   * kept in PenguinMails, reported as not applicable.
   */
  skipped: string[];
}

/** Events that are a CRM record of their own. */
const OWN_RECORD: Partial<Record<ActivityEventType, ActivityKind>> = {
  sent: 'email_sent',
  replied: 'email_replied',
  bounced: 'email_bounced',
};

/** Events folded into their message's roll-up record. */
const ROLLED_UP: ReadonlySet<ActivityEventType> = new Set(['opened', 'clicked']);

const LABELS: Record<ActivityEventType, string> = {
  sent: 'Email Sent',
  delivered: 'Email Delivered',
  opened: 'Email Opened',
  clicked: 'Email Clicked',
  replied: 'Email Replied',
  bounced: 'Email Bounced',
  unsubscribed: 'Email Unsubscribed',
};

/** Events that set a field on the contact, where the connector declares one. */
const CONTACT_STATUS: Partial<Record<ActivityEventType, keyof EmailStatusFields>> = {
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
};

function statusValue(value: EmailStatusValue, event: DeliverableEvent): unknown {
  if (typeof value !== 'object') return value;
  return value.fromEvent === 'reason' ? (event.reason ?? null) : event.occurredAt.toISOString();
}

/** The contact fields this event sets on an object of the CRM, or undefined where the CRM declares none. */
export function contactStatusFields(
  event: DeliverableEvent,
  object: string,
  declared: Readonly<Record<string, EmailStatusFields>> | undefined,
): Record<string, unknown> | undefined {
  const status = CONTACT_STATUS[event.type];
  // A soft bounce is temporary: the address stays good.
  if (status === undefined || (event.type === 'bounced' && event.bounceType !== 'hard')) return undefined;
  const fields = declared && Object.hasOwn(declared, object) ? declared[object][status] : undefined;
  if (!fields) return undefined;
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, statusValue(value, event)]));
}

/** Whether any contact object of the CRM holds this event's status (then an unlinked contact waits for its link). */
function anyStatusField(
  event: DeliverableEvent,
  declared: Readonly<Record<string, EmailStatusFields>> | undefined,
): boolean {
  return Object.keys(declared ?? {}).some(
    (object) => contactStatusFields(event, object, declared) !== undefined,
  );
}

/** The key a CRM record is recognised by on a redelivery (the connectors store it with the record). */
export const eventKey = (eventId: string) => `pm:event:${eventId}`;
export const rollUpKey = (messageId: string) => `pm:message:${messageId}:engagement`;

function times(count: number, word: string): string {
  return `${word} ${count} time${count === 1 ? '' : 's'}`;
}

/** The roll-up record's text: counts, last time and the links clicked. */
export function engagementText(engagement: MessageEngagement): string {
  const lines = [
    `${times(engagement.opens, 'Opened')}, ${times(engagement.clicks, 'clicked')}.`,
    `Last activity: ${engagement.lastAt.toISOString()}`,
  ];
  if (engagement.urls.length > 0) lines.push(`Links clicked: ${engagement.urls.slice(0, 20).join(', ')}`);
  return lines.join('\n');
}

function ownText(event: DeliverableEvent): string | undefined {
  const lines: string[] = [];
  if (event.type === 'replied' && event.snippet) lines.push(event.snippet);
  if (event.type === 'bounced') {
    lines.push(
      `${event.bounceType === 'hard' ? 'Hard' : 'Soft'} bounce${event.reason ? `: ${event.reason}` : ''}`,
    );
  }
  if (event.campaignId) lines.push(`Campaign: ${event.campaignId}`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/**
 * Turns a connection's undelivered events into CRM writes: a send, reply or bounce is a record of its own; a
 * message's opens and clicks become one roll-up record (created once, then updated with the counts through its
 * `crmId`); an event whose contact is not linked in this CRM is held.
 */
export function planDelivery(
  events: DeliverableEvent[],
  links: Map<string, LinkedRecord>,
  rollUpRecords: Map<string, string>,
  engagement: Map<string, MessageEngagement>,
  statusFields?: Readonly<Record<string, EmailStatusFields>>,
): DeliveryPlan {
  const plan: DeliveryPlan = { activities: [], contactUpdates: [], held: [], skipped: [] };
  const rollUps = new Map<string, { events: DeliverableEvent[]; link: LinkedRecord }>();
  const updates = new Map<string, PlannedContactUpdate>();
  for (const event of events) {
    const kind = OWN_RECORD[event.type];
    const setsStatus = anyStatusField(event, statusFields);
    if (kind === undefined && !ROLLED_UP.has(event.type) && !setsStatus) {
      plan.skipped.push(event.deliveryId);
      continue;
    }
    const link = links.get(event.email);
    if (!link) {
      plan.held.push(event.deliveryId);
      continue;
    }
    const fields = contactStatusFields(event, link.crmObject, statusFields);
    if (fields) {
      const key = `${link.crmObject}|${link.crmId}`;
      const update = updates.get(key) ?? {
        object: link.crmObject,
        crmId: link.crmId,
        email: event.email,
        fields: {},
        labels: [],
        deliveryIds: [],
      };
      // Events come oldest first: a later event's value wins.
      Object.assign(update.fields, fields);
      if (!update.labels.includes(LABELS[event.type])) update.labels.push(LABELS[event.type]);
      if (kind === undefined) update.deliveryIds.push(event.deliveryId);
      updates.set(key, update);
    } else if (kind === undefined && !ROLLED_UP.has(event.type)) {
      // Linked to an object without the field (a Lead-less CRM's other object): nothing to write here.
      plan.skipped.push(event.deliveryId);
      continue;
    }
    if (kind === undefined && !ROLLED_UP.has(event.type)) continue;
    if (kind !== undefined) {
      plan.activities.push({
        input: {
          key: eventKey(event.eventId),
          kind,
          occurredAt: event.occurredAt.toISOString(),
          subject: event.subject ?? undefined,
          bodyText: ownText(event),
          to: [event.email],
          contact: { crmId: link.crmId, object: link.crmObject, email: event.email },
        },
        deliveryIds: [event.deliveryId],
        label: LABELS[event.type],
      });
      continue;
    }
    const group = rollUps.get(event.messageId) ?? { events: [], link };
    group.events.push(event);
    rollUps.set(event.messageId, group);
  }
  for (const [messageId, group] of rollUps) {
    const latest = group.events[group.events.length - 1];
    const counted = engagement.get(messageId) ?? {
      opens: group.events.filter((event) => event.type === 'opened').length,
      clicks: group.events.filter((event) => event.type === 'clicked').length,
      firstAt: group.events[0].occurredAt,
      lastAt: latest.occurredAt,
      urls: [],
    };
    const subject = group.events.find((event) => event.subject)?.subject ?? undefined;
    plan.activities.push({
      input: {
        key: rollUpKey(messageId),
        kind: counted.opens > 0 ? 'email_opened' : 'email_clicked',
        // The first open or click: stable, so a retried create is recognised by the connector's own look-up.
        occurredAt: counted.firstAt.toISOString(),
        subject,
        bodyText: engagementText(counted),
        to: [latest.email],
        contact: { crmId: group.link.crmId, object: group.link.crmObject, email: latest.email },
        crmId: rollUpRecords.get(messageId),
        engagement: {
          opens: counted.opens,
          clicks: counted.clicks,
          lastEventAt: counted.lastAt.toISOString(),
        },
      },
      deliveryIds: group.events.map((event) => event.deliveryId),
      label: LABELS[latest.type],
      rollUp: { messageId, engagement: counted },
    });
  }
  plan.contactUpdates = [...updates.values()];
  return plan;
}
