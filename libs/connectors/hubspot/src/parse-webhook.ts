import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CrmError,
  CrmErrorCode,
  type WebhookEvent,
  type WebhookRequest,
  type WebhookSecrets,
} from '@pm/integration-port';
import { HUBSPOT_PROVIDER } from './config';

/** HubSpot asks apps to refuse a request whose timestamp is older than five minutes (replays). */
export const HUBSPOT_WEBHOOK_MAX_AGE_MS = 5 * 60_000;

/** Percent-escapes HubSpot decodes in the URI before signing (developers.hubspot.com/docs/api/webhooks/validating-requests). */
const DECODED_IN_URI: ReadonlyArray<[RegExp, string]> = [
  [/%3A/gi, ':'],
  [/%2F/gi, '/'],
  [/%3F/gi, '?'],
  [/%40/gi, '@'],
  [/%21/gi, '!'],
  [/%24/gi, '$'],
  [/%27/gi, "'"],
  [/%28/gi, '('],
  [/%29/gi, ')'],
  [/%2A/gi, '*'],
  [/%2C/gi, ','],
  [/%3B/gi, ';'],
];

/** One event of a v3 webhook body (developers.hubspot.com/docs/api/webhooks). */
interface HubSpotWebhookEventBody {
  eventId?: number | string;
  portalId?: number | string;
  occurredAt?: number;
  subscriptionType?: string;
  objectId?: number | string;
  objectTypeId?: string;
  propertyName?: string;
  changeFlag?: string;
  /** Merge events: the records merged into `objectId` (they no longer exist). */
  mergedObjectIds?: Array<number | string>;
}

const OBJECT_BY_SINGULAR: Readonly<Record<string, string>> = {
  contact: 'contacts',
  company: 'companies',
  deal: 'deals',
  ticket: 'tickets',
  email: 'emails',
};

/** Generic `object.*` subscriptions name the type by id. */
const OBJECT_BY_TYPE_ID: Readonly<Record<string, string>> = {
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-5': 'tickets',
  '0-49': 'emails',
};

const ACTION_BY_EVENT: Readonly<Record<string, WebhookEvent['action']>> = {
  creation: 'created',
  propertyChange: 'updated',
  deletion: 'deleted',
  privacyDeletion: 'deleted',
  merge: 'merged',
  restore: 'created',
};

function invalid(message: string): CrmError {
  return new CrmError(CrmErrorCode.INVALID_SIGNATURE, message, { provider: HUBSPOT_PROVIDER });
}

function header(request: WebhookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function hubSpotWebhookSignatureV3(
  secret: string,
  method: string,
  url: string,
  body: string,
  timestamp: string,
): string {
  const uri = DECODED_IN_URI.reduce(
    (text, [pattern, replacement]) => text.replace(pattern, replacement),
    url,
  );
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${uri}${body}${timestamp}`, 'utf8')
    .digest('base64');
}

/**
 * Verifies HubSpot's v3 signature — base64(HMAC-SHA256(client secret, method + URI + body + timestamp)) — and the
 * five-minute window, then maps the JSON array of events.
 */
export function parseHubSpotWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
  const signature = header(request, 'x-hubspot-signature-v3');
  const timestamp = header(request, 'x-hubspot-request-timestamp');
  if (!signature || !timestamp) throw invalid('The request carries no X-HubSpot-Signature-v3 and timestamp');
  const sentAt = Number(timestamp);
  if (!Number.isFinite(sentAt)) throw invalid('X-HubSpot-Request-Timestamp is not a timestamp');
  if (Math.abs(request.receivedAt.getTime() - sentAt) > HUBSPOT_WEBHOOK_MAX_AGE_MS) {
    throw invalid('The webhook request is more than five minutes old');
  }
  const body = request.rawBody.toString('utf8');
  const expected = Buffer.from(
    hubSpotWebhookSignatureV3(secrets.secret, request.method, request.url, body, timestamp),
  );
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw invalid('The X-HubSpot-Signature-v3 signature does not match');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'The webhook body is not JSON', {
      provider: HUBSPOT_PROVIDER,
    });
  }
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as HubSpotWebhookEventBody[];
  return events.flatMap((event) => {
    const [singular = '', kind = ''] = (event.subscriptionType ?? '').split('.');
    const object =
      (singular === 'object' ? OBJECT_BY_TYPE_ID[event.objectTypeId ?? ''] : OBJECT_BY_SINGULAR[singular]) ??
      (singular === 'object' ? (event.objectTypeId ?? 'object') : `${singular}s`);
    const mapped: WebhookEvent = {
      accountId: String(event.portalId ?? ''),
      object,
      recordId: String(event.objectId ?? ''),
      action: ACTION_BY_EVENT[kind] ?? 'other',
      occurredAt: new Date(event.occurredAt ?? request.receivedAt.getTime()).toISOString(),
    };
    if (event.propertyName) mapped.changedFields = [event.propertyName];
    if (event.eventId !== undefined) mapped.eventId = String(event.eventId);
    // A merge also names the records that went into the primary: each is a change of its own (it is gone).
    const merged = (event.mergedObjectIds ?? [])
      .map(String)
      .filter((id) => id !== mapped.recordId)
      .map((id): WebhookEvent => ({ ...mapped, recordId: id }));
    return [mapped, ...merged];
  });
}
