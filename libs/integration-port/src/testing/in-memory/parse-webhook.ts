import { timingSafeEqual } from 'node:crypto';
import { CrmError, CrmErrorCode } from '../../errors';
import type { WebhookEvent, WebhookRequest, WebhookSecrets } from '../../types';
import { IN_MEMORY_PROVIDER } from './provider';
import {
  headerValue,
  SIGNATURE_HEADER,
  signInMemoryWebhook,
  TIMESTAMP_HEADER,
  WEBHOOK_MAX_AGE_MS,
} from './webhook-signature';

/** The events of a webhook whose signature and timestamp check out; anything else is rejected. */
export function parseWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
  const signature = headerValue(request.headers, SIGNATURE_HEADER);
  const timestamp = Number(headerValue(request.headers, TIMESTAMP_HEADER));
  if (signature === undefined || !Number.isFinite(timestamp)) {
    throw invalidSignature('missing signature or timestamp header');
  }
  if (Math.abs(request.receivedAt.getTime() - timestamp) > WEBHOOK_MAX_AGE_MS) {
    throw invalidSignature('timestamp is more than five minutes from the time of receipt');
  }
  const expected = Buffer.from(
    signInMemoryWebhook(secrets.secret, request.method, request.url, request.rawBody, timestamp),
  );
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw invalidSignature('signature does not match');
  }
  let events: unknown;
  try {
    events = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Webhook body is not JSON', {
      provider: IN_MEMORY_PROVIDER,
    });
  }
  if (!Array.isArray(events)) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Webhook body is not an array of events', {
      provider: IN_MEMORY_PROVIDER,
    });
  }
  return events as WebhookEvent[];
}

function invalidSignature(reason: string): CrmError {
  return new CrmError(CrmErrorCode.INVALID_SIGNATURE, `Webhook rejected: ${reason}`, {
    status: 401,
    provider: IN_MEMORY_PROVIDER,
  });
}
