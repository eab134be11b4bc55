// Webhooks v3 as HubSpot sends them to an app: a POSTed JSON array of events, signed with
// X-HubSpot-Signature-v3 = base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)) and
// X-HubSpot-Request-Timestamp (ms). Follows https://developers.hubspot.com/docs/api/webhooks/validating-requests
// and https://developers.hubspot.com/docs/api/webhooks (event fields).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookSignRequest } from '../kit/webhook-dispatcher';
import { HubSpotObjectType, OBJECT_TYPE_INFO } from './object-types';
import type { RecordChange } from './portal';

/** HubSpot rejects (and asks apps to reject) requests whose timestamp is older than this. */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

export function hubSpotSignatureV3(
  clientSecret: string,
  method: string,
  uri: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', clientSecret)
    .update(`${method}${uri}${body}${timestamp}`, 'utf8')
    .digest('base64');
}

/** The v1 signature HubSpot also sends on webhook requests: hex SHA-256 of clientSecret + body. */
export function hubSpotSignatureV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(`${clientSecret}${body}`, 'utf8').digest('hex');
}

/** Signer for the kit's WebhookDispatcher. */
export function hubSpotWebhookSigner(
  clientSecret: string,
): (request: WebhookSignRequest) => Record<string, string> {
  return (request) => {
    const timestamp = String(request.timestampMs);
    return {
      'X-HubSpot-Signature-v3': hubSpotSignatureV3(
        clientSecret,
        request.method,
        request.url,
        request.body,
        timestamp,
      ),
      'X-HubSpot-Request-Timestamp': timestamp,
      'X-HubSpot-Signature': hubSpotSignatureV1(clientSecret, request.body),
      'X-HubSpot-Signature-Version': 'v1',
    };
  };
}

export interface VerifySignatureInput {
  clientSecret: string;
  method: string;
  /** The full URL the request was sent to, as HubSpot signed it. */
  uri: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs?: number;
}

/** Checks a v3 signature and its freshness, as a receiving app must (for tests; the product has its own). */
export function verifyHubSpotSignatureV3(input: VerifySignatureInput): boolean {
  if (!input.signature || !input.timestamp) return false;
  const sentAt = Number(input.timestamp);
  if (!Number.isFinite(sentAt) || (input.nowMs ?? Date.now()) - sentAt > HUBSPOT_SIGNATURE_MAX_AGE_MS)
    return false;
  const expected = Buffer.from(
    hubSpotSignatureV3(input.clientSecret, input.method, input.uri, input.body, input.timestamp),
  );
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** One event in a webhook request body. */
export interface HubSpotWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeFlag?: 'NEW' | 'DELETED' | 'PROPERTY_CHANGE';
  changeSource: string;
  propertyName?: string;
  propertyValue?: string;
  sourceId?: string;
  /** Merge events: the record that remains, the records merged into it, and how many values moved. */
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
}

/** Properties HubSpot maintains itself; their changes are not sent as propertyChange events. */
const SYSTEM_PROPERTIES = new Set([
  'hs_object_id',
  'createdate',
  'hs_createdate',
  'lastmodifieddate',
  'hs_lastmodifieddate',
]);

/** The events (without subscription and attempt fields) a record change produces, keyed by subscription type. */
export function eventsForChange(
  change: RecordChange,
  nextEventId: () => number,
): Array<{
  subscriptionType: string;
  event: Omit<HubSpotWebhookEvent, 'subscriptionId' | 'attemptNumber' | 'portalId' | 'appId'>;
}> {
  const singular = OBJECT_TYPE_INFO[change.objectType as HubSpotObjectType].singular;
  const base = {
    occurredAt: change.occurredAt.getTime(),
    objectId: Number(change.record.id),
    changeSource: change.source,
  };
  if (change.kind === 'creation') {
    const subscriptionType = `${singular}.creation`;
    return [
      { subscriptionType, event: { ...base, eventId: nextEventId(), subscriptionType, changeFlag: 'NEW' } },
    ];
  }
  if (change.kind === 'deletion') {
    const subscriptionType = `${singular}.deletion`;
    return [
      {
        subscriptionType,
        event: { ...base, eventId: nextEventId(), subscriptionType, changeFlag: 'DELETED' },
      },
    ];
  }
  if (change.kind === 'merge') {
    const subscriptionType = `${singular}.merge`;
    return [
      {
        subscriptionType,
        event: {
          ...base,
          eventId: nextEventId(),
          subscriptionType,
          primaryObjectId: Number(change.record.id),
          mergedObjectIds: (change.mergedIds ?? []).map(Number),
          newObjectId: Number(change.record.id),
          numberOfPropertiesMoved: change.changedProperties.length,
        },
      },
    ];
  }
  const subscriptionType = `${singular}.propertyChange`;
  return change.changedProperties
    .filter((name) => !SYSTEM_PROPERTIES.has(name))
    .map((propertyName) => ({
      subscriptionType,
      event: {
        ...base,
        eventId: nextEventId(),
        subscriptionType,
        propertyName,
        propertyValue: change.record.properties[propertyName] ?? '',
      },
    }));
}
