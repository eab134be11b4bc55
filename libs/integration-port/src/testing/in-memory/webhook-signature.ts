import { createHmac } from 'node:crypto';
import type { WebhookEvent, WebhookRequest } from '../../types';

export const SIGNATURE_HEADER = 'x-inmemory-signature';
export const TIMESTAMP_HEADER = 'x-inmemory-request-timestamp';
/** Webhooks older than this are replays (HubSpot uses the same five minutes). */
export const WEBHOOK_MAX_AGE_MS = 5 * 60_000;

/** The signature the in-memory CRM puts on a webhook: base64(HMAC-SHA256(secret, method + url + body + timestamp)). */
export function signInMemoryWebhook(
  secret: string,
  method: string,
  url: string,
  rawBody: Buffer,
  timestampMs: number,
): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${url}${rawBody.toString('utf8')}${timestampMs}`)
    .digest('base64');
}

/** A webhook request as the in-memory CRM sends it, signed with `secret`. */
export function buildInMemoryWebhookRequest(
  events: WebhookEvent[],
  secret: string,
  options: { url?: string; sentAt?: Date; receivedAt?: Date } = {},
): WebhookRequest {
  const url = options.url ?? 'https://app.example.test/webhooks/in-memory';
  const sentAt = (options.sentAt ?? new Date()).getTime();
  const rawBody = Buffer.from(JSON.stringify(events));
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signInMemoryWebhook(secret, 'POST', url, rawBody, sentAt),
      [TIMESTAMP_HEADER]: String(sentAt),
    },
    rawBody,
    receivedAt: options.receivedAt ?? new Date(sentAt),
  };
}

export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
