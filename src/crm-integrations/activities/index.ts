export * from './activity-event.dto';
export * from './activity-queue';
export * from './activity-delivery.service';
export * from './activity-delivery.worker';
export * from './activity-ingest.service';
export * from './activity-summary.service';
export * from './activities.controller';
export * from './activity.repository';

import { ActivityDeliveryService } from './activity-delivery.service';
import { ActivityIngestService } from './activity-ingest.service';
import { ActivityQueue } from './activity-queue';
import { ActivitySummaryService } from './activity-summary.service';
import { ActivityRepository } from './activity.repository';
import { ContactStatusWriter } from './contact-status-writer';
import { MissingContacts } from './missing-contacts';

/** Providers the feature module registers for e-mail activity logging. */
export const ACTIVITY_PROVIDERS = [
  ActivityRepository,
  ActivityQueue,
  ActivityIngestService,
  ActivitySummaryService,
  ActivityDeliveryService,
  MissingContacts,
  ContactStatusWriter,
];

/** What the feature module exports (the delivery worker and a benchmark use them). */
export const ACTIVITY_EXPORTS = [ActivityQueue, ActivityIngestService, ActivityDeliveryService];
