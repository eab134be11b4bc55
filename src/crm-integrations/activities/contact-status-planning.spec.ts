import type { ActivityEventType } from '@pm/domain';
import type { EmailStatusFields } from '@pm/integration-port';
import type { DeliverableEvent, LinkedRecord } from './activity.repository';
import { contactStatusFields, planDelivery } from './activity-inputs';

let n = 0;
function event(
  type: ActivityEventType,
  email: string,
  minute: number,
  extra: Partial<DeliverableEvent> = {},
): DeliverableEvent {
  n++;
  return {
    deliveryId: `d${n}`,
    status: 'pending',
    attempts: 0,
    eventId: `e${n}`,
    type,
    messageId: `m${n}`,
    campaignId: null,
    email,
    subject: 'Hello',
    occurredAt: new Date(Date.UTC(2026, 11, 5, 9, minute)),
    url: null,
    snippet: null,
    bounceType: null,
    reason: null,
    ...extra,
  };
}

/** A connector's declared fields, as data: one object with both, one with the unsubscribe only. */
const declared: Record<string, EmailStatusFields> = {
  Contact: {
    bounced: { BounceWhy: { fromEvent: 'reason' }, BounceWhen: { fromEvent: 'occurredAt' } },
    unsubscribed: { OptedOut: true },
  },
  Person: { unsubscribed: { consent: 'unsubscribed' } },
};
const ada: LinkedRecord = { crmObject: 'Contact', crmId: 'c-ada' };
const pat: LinkedRecord = { crmObject: 'Person', crmId: 'p-pat' };
const links = new Map([
  ['ada@example.com', ada],
  ['pat@example.com', pat],
]);

describe('the contact fields an e-mail event sets', () => {
  it('fills values from the event for a hard bounce, and none for a soft one or an undeclared object', () => {
    const hard = event('bounced', 'ada@example.com', 1, { bounceType: 'hard', reason: '550 no such user' });
    expect(contactStatusFields(hard, 'Contact', declared)).toEqual({
      BounceWhy: '550 no such user',
      BounceWhen: '2026-12-05T09:01:00.000Z',
    });
    expect(contactStatusFields({ ...hard, bounceType: 'soft' }, 'Contact', declared)).toBeUndefined();
    expect(contactStatusFields(hard, 'Person', declared)).toBeUndefined();
    expect(contactStatusFields(hard, 'Contact', undefined)).toBeUndefined();
    expect(contactStatusFields(event('opened', 'ada@example.com', 2), 'Contact', declared)).toBeUndefined();
  });

  it('plans an unsubscribe as a contact write it settles, a hard bounce as a write beside its own record', () => {
    const unsubscribe = event('unsubscribed', 'pat@example.com', 1);
    const hard = event('bounced', 'ada@example.com', 2, { bounceType: 'hard', reason: 'gone' });
    const adaOut = event('unsubscribed', 'ada@example.com', 3);
    const plan = planDelivery([unsubscribe, hard, adaOut], links, new Map(), new Map(), declared);

    expect(plan.activities.map((activity) => activity.input.kind)).toEqual(['email_bounced']);
    expect(plan.activities[0].deliveryIds).toEqual([hard.deliveryId]);
    // One write per contact, the two events' fields merged; only the unsubscribe is settled by it.
    expect(plan.contactUpdates).toEqual([
      {
        object: 'Person',
        crmId: 'p-pat',
        email: 'pat@example.com',
        fields: { consent: 'unsubscribed' },
        labels: ['Email Unsubscribed'],
        deliveryIds: [unsubscribe.deliveryId],
      },
      {
        object: 'Contact',
        crmId: 'c-ada',
        email: 'ada@example.com',
        fields: { BounceWhy: 'gone', BounceWhen: '2026-12-05T09:02:00.000Z', OptedOut: true },
        labels: ['Email Bounced', 'Email Unsubscribed'],
        deliveryIds: [adaOut.deliveryId],
      },
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('holds an unsubscribe whose contact is not linked where the CRM has a field; reports it not applicable where none', () => {
    const unlinked = event('unsubscribed', 'new@example.com', 1);
    const receipt = event('delivered', 'ada@example.com', 2);
    const held = planDelivery([unlinked, receipt], links, new Map(), new Map(), declared);
    expect(held.held).toEqual([unlinked.deliveryId]);
    expect(held.skipped).toEqual([receipt.deliveryId]);

    const none = planDelivery([unlinked, receipt], links, new Map(), new Map(), undefined);
    expect(none.held).toEqual([]);
    expect(none.skipped).toEqual([unlinked.deliveryId, receipt.deliveryId]);
    expect(none.contactUpdates).toEqual([]);
  });
});
