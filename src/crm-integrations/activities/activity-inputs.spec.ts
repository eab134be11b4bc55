import type { ActivityEventType } from '@pm/domain';
import type { ConnectorCapabilities } from '@pm/integration-port';
import { deliveryBatchSize } from './activity-delivery.service';
import type { DeliverableEvent, LinkedRecord, MessageEngagement } from './activity.repository';
import { eventKey, planDelivery, rollUpKey } from './activity-inputs';
import { nextDelivery } from './activity-delivery.worker';

let n = 0;
function event(
  type: ActivityEventType,
  email: string,
  messageId: string,
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
    messageId,
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

const ada: LinkedRecord = { crmObject: 'Contact', crmId: '003000000000001AAA' };
const links = new Map([['ada@example.com', ada]]);

describe('planning a delivery', () => {
  it('makes sends, replies and bounces their own records and folds a message’s opens and clicks into one', () => {
    const events = [
      event('sent', 'ada@example.com', 'm1', 0),
      event('opened', 'ada@example.com', 'm1', 1),
      event('clicked', 'ada@example.com', 'm1', 2, { url: 'https://a.example/x' }),
      event('opened', 'ada@example.com', 'm1', 3),
      event('replied', 'ada@example.com', 'm1', 4, { snippet: 'Yes please' }),
      event('bounced', 'ada@example.com', 'm2', 5, { bounceType: 'soft', reason: 'mailbox full' }),
      event('delivered', 'ada@example.com', 'm1', 6),
    ];
    const plan = planDelivery(events, links, new Map(), new Map());
    expect(plan.activities.map((activity) => [activity.input.kind, activity.deliveryIds.length])).toEqual([
      ['email_sent', 1],
      ['email_replied', 1],
      ['email_bounced', 1],
      ['email_opened', 3],
    ]);
    expect(plan.skipped).toEqual([events[6].deliveryId]);
    const rollUp = plan.activities[3];
    expect(rollUp.input).toMatchObject({
      key: rollUpKey('m1'),
      occurredAt: '2026-12-05T09:01:00.000Z',
      engagement: { opens: 2, clicks: 1, lastEventAt: '2026-12-05T09:03:00.000Z' },
      contact: { crmId: ada.crmId, object: 'Contact', email: 'ada@example.com' },
    });
    expect(rollUp.input.crmId).toBeUndefined();
    expect(plan.activities[0].input.key).toBe(eventKey(events[0].eventId));
    expect(plan.activities[1].input.bodyText).toContain('Yes please');
    expect(plan.activities[2].input.bodyText).toContain('Soft bounce: mailbox full');
  });

  it('updates the message’s existing roll-up record with the counts over all its events', () => {
    const engagement: MessageEngagement = {
      opens: 5,
      clicks: 2,
      firstAt: new Date('2026-12-01T08:00:00Z'),
      lastAt: new Date('2026-12-05T09:10:00Z'),
      urls: ['https://a.example/x'],
    };
    const plan = planDelivery(
      [event('opened', 'ada@example.com', 'm1', 10)],
      links,
      new Map([['m1', '00T000000000009AAA']]),
      new Map([['m1', engagement]]),
    );
    expect(plan.activities[0].input).toMatchObject({
      crmId: '00T000000000009AAA',
      engagement: { opens: 5, clicks: 2 },
      occurredAt: '2026-12-01T08:00:00.000Z',
    });
    expect(plan.activities[0].input.bodyText).toContain('Opened 5 times, clicked 2 times');
    expect(plan.activities[0].rollUp?.messageId).toBe('m1');
  });

  it('holds every event of a contact that is not linked in the CRM', () => {
    const events = [event('sent', 'new@example.com', 'm3', 0), event('opened', 'new@example.com', 'm3', 1)];
    const plan = planDelivery(events, links, new Map(), new Map());
    expect(plan.activities).toEqual([]);
    expect(plan.held).toEqual(events.map((e) => e.deliveryId));
  });
});

describe('when the next delivery runs', () => {
  const counts = { logged: 0, failed: 0, held: 0, skipped: 0, writes: 0 };
  it('comes back after Retry-After, waits for a reconnect, and goes on at once when events are left over', () => {
    expect(
      nextDelivery({
        status: 'interrupted',
        reason: '429',
        retryAfterMs: 90_000,
        needsReconnect: false,
        ...counts,
      }),
    ).toBe(90_000);
    expect(
      nextDelivery({
        status: 'interrupted',
        reason: '503',
        retryAfterMs: 0,
        needsReconnect: false,
        ...counts,
      }),
    ).toBe(30_000);
    expect(
      nextDelivery({
        status: 'interrupted',
        reason: 'revoked',
        retryAfterMs: 0,
        needsReconnect: true,
        ...counts,
      }),
    ).toBeUndefined();
    expect(nextDelivery({ status: 'done', more: true, ...counts })).toBe(0);
    expect(nextDelivery({ status: 'done', more: false, ...counts })).toBeUndefined();
    expect(nextDelivery({ status: 'busy' })).toBe(5_000);
  });
});

describe('the delivery batch size', () => {
  const capabilities = (overrides: Partial<ConnectorCapabilities>): ConnectorCapabilities => ({
    provider: 'x',
    displayName: 'X',
    objects: [],
    defaultMappings: {},
    maxWriteBatch: 200,
    maxReadPage: 200,
    maxConcurrency: 4,
    rateLimits: [{ kind: 'daily', limit: 100_000 }],
    webhooks: { supported: false, verification: 'none' },
    oauth: { pkce: false, defaultScopes: [], refreshRotates: false },
    ...overrides,
  });

  it('is the batch limit where one request writes a batch, and fits the rate window where each record is a request', () => {
    expect(deliveryBatchSize(capabilities({}))).toBe(200);
    expect(
      deliveryBatchSize(
        capabilities({
          maxWriteBatch: 100,
          writeRecordsPerRequest: 1,
          rateLimits: [
            { kind: 'window', limit: 80, windowMs: 2_000 },
            { kind: 'daily', limit: 30_000 },
          ],
        }),
      ),
    ).toBe(40);
    // Two requests per activity (as Pipedrive counts them): half as many activities per call.
    expect(
      deliveryBatchSize(
        capabilities({
          maxWriteBatch: 100,
          writeRecordsPerRequest: 1,
          requestCounts: { logActivities: { requestsPerItem: 2 } },
          rateLimits: [{ kind: 'window', limit: 80, windowMs: 2_000 }],
        }),
      ),
    ).toBe(20);
  });
});
