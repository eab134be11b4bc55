export * from './webhook-signature';
export * from './webhook-queue';
export * from './webhook-delivery.service';
export * from './webhook-delivery.worker';
export * from './webhook.service';
export * from './webhooks.controller';
export * from './webhook.dto';

import { CONTACT_CHANGE_LISTENER } from '../contacts/contact-change-listener';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookQueue } from './webhook-queue';
import { WebhookService } from './webhook.service';

/** Providers the feature module registers for outbound webhooks; the delivery service hears of feed changes. */
export const WEBHOOK_PROVIDERS = [
  WebhookQueue,
  WebhookDeliveryService,
  WebhookService,
  { provide: CONTACT_CHANGE_LISTENER, useExisting: WebhookDeliveryService },
];

/** What the feature module exports (the worker uses them; tests trigger jobs through the delivery service). */
export const WEBHOOK_EXPORTS = [WebhookQueue, WebhookDeliveryService];
