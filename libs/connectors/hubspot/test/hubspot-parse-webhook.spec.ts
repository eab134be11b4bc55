import { hubSpotWebhookSignatureV3, parseHubSpotWebhook } from '../src/parse-webhook';

/** A v3-signed request as HubSpot sends it. */
function signed(events: unknown[], secret = 'app-secret', receivedAt = new Date('2026-12-06T10:00:00.000Z')) {
  const body = JSON.stringify(events);
  const timestamp = String(receivedAt.getTime());
  const url = 'https://crm.example.com/webhooks/hubspot';
  return {
    method: 'POST',
    url,
    headers: {
      'X-HubSpot-Signature-v3': hubSpotWebhookSignatureV3(secret, 'POST', url, body, timestamp),
      'X-HubSpot-Request-Timestamp': timestamp,
    },
    rawBody: Buffer.from(body),
    receivedAt,
  };
}

describe('parseHubSpotWebhook', () => {
  it('maps a merge to the remaining record and to each record merged into it', () => {
    const events = parseHubSpotWebhook(
      signed([
        {
          eventId: 7,
          portalId: 42,
          occurredAt: Date.parse('2026-12-06T09:59:00.000Z'),
          subscriptionType: 'contact.merge',
          objectId: 100,
          primaryObjectId: 100,
          mergedObjectIds: [200],
          newObjectId: 100,
        },
      ]),
      { secret: 'app-secret' },
    );
    expect(events.map((event) => [event.recordId, event.action, event.eventId])).toEqual([
      ['100', 'merged', '7'],
      ['200', 'merged', '7'],
    ]);
  });

  it('refuses a body signed with another secret before reading it', () => {
    expect(() => parseHubSpotWebhook(signed([{ objectId: 1 }], 'other'), { secret: 'app-secret' })).toThrow(
      expect.objectContaining({ code: 'INVALID_SIGNATURE' }),
    );
  });
});
