import { timingSafeEqual } from 'node:crypto';
import { toUtcIso } from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type CrmSession,
  type WebhookEvent,
  type WebhookRequest,
  type WebhookSecrets,
} from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { PIPEDRIVE_PROVIDER } from './http-facts';

/**
 * Pipedrive webhooks v2.0 (https://pipedrive.readme.io/docs/guide-for-webhooks-v2). Pipedrive signs nothing: a
 * subscription is created with `http_auth_user`/`http_auth_password` and every delivery carries them as HTTP Basic
 * auth, which is what `parseWebhook` verifies (constant-time). The body is one event
 * `{data, previous, meta: {action, entity, entity_id, company_id, timestamp, id, version: "2.0", …}}`.
 */

const ENTITY_OBJECTS: Readonly<Record<string, string>> = {
  person: 'persons',
  organization: 'organizations',
  activity: 'activities',
};

const ACTIONS: Readonly<Record<string, WebhookEvent['action']>> = {
  create: 'created',
  added: 'created',
  change: 'updated',
  updated: 'updated',
  delete: 'deleted',
  deleted: 'deleted',
  merge: 'merged',
  merged: 'merged',
};

interface WebhookV2Body {
  data?: Record<string, unknown> | null;
  previous?: Record<string, unknown> | null;
  meta?: {
    action?: string;
    entity?: string;
    entity_id?: string | number;
    company_id?: string | number;
    timestamp?: string | number;
    id?: string;
    version?: string;
  };
}

function invalid(reason: string): CrmError {
  return new CrmError(CrmErrorCode.INVALID_SIGNATURE, `Pipedrive webhook rejected: ${reason}`, {
    provider: PIPEDRIVE_PROVIDER,
    status: 401,
  });
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function verifyBasicAuth(request: WebhookRequest, secrets: WebhookSecrets): void {
  const authorization = header(request.headers, 'authorization');
  const match =
    authorization === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
  if (!match) throw invalid('no HTTP Basic credentials');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalid('malformed HTTP Basic credentials');
  const userOk = secrets.username === undefined || sameText(decoded.slice(0, colon), secrets.username);
  const passwordOk = sameText(decoded.slice(colon + 1), secrets.secret);
  if (!userOk || !passwordOk) throw invalid('wrong HTTP Basic credentials');
}

function instant(value: string | number | undefined, fallback: Date): string {
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value).toISOString();
  if (typeof value === 'string' && value.trim() !== '') {
    try {
      return toUtcIso(value);
    } catch {
      // Not ISO-8601: fall through to the time of receipt.
    }
  }
  return fallback.toISOString();
}

export function parsePipedriveWebhook(request: WebhookRequest, secrets: WebhookSecrets): WebhookEvent[] {
  verifyBasicAuth(request, secrets);
  let body: WebhookV2Body;
  try {
    body = JSON.parse(request.rawBody.toString('utf8')) as WebhookV2Body;
  } catch {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, 'Pipedrive webhook body is not JSON', {
      provider: PIPEDRIVE_PROVIDER,
    });
  }
  const meta = body?.meta;
  if (meta?.version !== '2.0' || meta.entity === undefined || meta.entity_id === undefined) {
    throw new CrmError(
      CrmErrorCode.VALIDATION_FAILED,
      'Not a Pipedrive webhook v2.0 payload (meta.version "2.0", meta.entity and meta.entity_id are required)',
      { provider: PIPEDRIVE_PROVIDER },
    );
  }
  const action = ACTIONS[meta.action ?? ''] ?? 'other';
  const event: WebhookEvent = {
    accountId: String(meta.company_id ?? ''),
    object: ENTITY_OBJECTS[meta.entity] ?? meta.entity,
    recordId: String(meta.entity_id),
    action,
    occurredAt: instant(meta.timestamp, request.receivedAt),
  };
  if (action === 'updated' && body.previous) event.changedFields = Object.keys(body.previous);
  if (meta.id !== undefined) event.eventId = meta.id;
  return [event];
}

export interface WebhookSubscription {
  subscriptionUrl: string;
  /** `person`, `organization`, `activity` or `*`. */
  eventObject: string;
  /** `create`, `change`, `delete` or `*`. */
  eventAction: string;
  username: string;
  password: string;
}

/** `POST /api/v1/webhooks` with version "2.0" and HTTP Basic credentials; returns the webhook id. */
export async function createPipedriveWebhook(
  http: PipedriveHttpClient,
  session: CrmSession,
  subscription: WebhookSubscription,
): Promise<string> {
  const created = await http.api<{ id: number }>(session, {
    method: 'POST',
    path: '/api/v1/webhooks',
    body: {
      subscription_url: subscription.subscriptionUrl,
      event_object: subscription.eventObject,
      event_action: subscription.eventAction,
      http_auth_user: subscription.username,
      http_auth_password: subscription.password,
      version: '2.0',
    },
  });
  return String(created.data.id);
}

export async function deletePipedriveWebhook(
  http: PipedriveHttpClient,
  session: CrmSession,
  webhookId: string,
): Promise<void> {
  await http.api<unknown>(session, {
    method: 'DELETE',
    path: `/api/v1/webhooks/${encodeURIComponent(webhookId)}`,
  });
}
