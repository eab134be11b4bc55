export * from './contact-push.tokens';
export * from './contact-push.queue';
export * from './contact-push.service';
export * from './contact-push.executor';
export * from './contact-push.worker';

import { CONTACT_PUSH_NOTIFIER } from '../contacts/contact-push-notifier';
import { ContactPushExecutor } from './contact-push.executor';
import { ContactPushQueue } from './contact-push.queue';
import { ContactPushService } from './contact-push.service';

/** Providers the feature module registers; the worker itself runs in SyncWorkersModule. */
export const CONTACT_PUSH_PROVIDERS = [
  ContactPushQueue,
  ContactPushService,
  ContactPushExecutor,
  { provide: CONTACT_PUSH_NOTIFIER, useExisting: ContactPushService },
];

export const CONTACT_PUSH_EXPORTS = [ContactPushQueue, ContactPushExecutor, ContactPushService];
