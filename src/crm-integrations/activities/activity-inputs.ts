import type { ActivityEventType } from '@pm/domain';
import type { ActivityInput, ActivityKind } from '@pm/integration-port';
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

export interface DeliveryPlan {
  activities: PlannedActivity[];
  /** Deliveries whose contact is not linked in this CRM yet. */
  held: string[];
  /** Deliveries with nothing to write of their own (delivered, unsubscribed). */
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
): DeliveryPlan {
  const plan: DeliveryPlan = { activities: [], held: [], skipped: [] };
  const rollUps = new Map<string, { events: DeliverableEvent[]; link: LinkedRecord }>();
  for (const event of events) {
    const kind = OWN_RECORD[event.type];
    if (kind === undefined && !ROLLED_UP.has(event.type)) {
      plan.skipped.push(event.deliveryId);
      continue;
    }
    const link = links.get(event.email);
    if (!link) {
      plan.held.push(event.deliveryId);
      continue;
    }
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
  return plan;
}
