export * from './crm-screens.service';
export * from './sync-activity.service';
export * from './screen-views';
export * from './field-mapping-screen';
export * from './field-mapping-screen.service';
export * from './admin-controls-screen.service';
export * from './screen-access';

import { AdminControlsScreenService } from './admin-controls-screen.service';
import { CrmScreensService } from './crm-screens.service';
import { FieldMappingScreenService } from './field-mapping-screen.service';
import { FIELD_MAPPING_SCREEN_SOURCE } from './field-mapping-screen';
import { SyncActivityService } from './sync-activity.service';

/** The screens' services: registered and exported by the plugin module, handed to the AdminJS contribution. */
export const SCREEN_PROVIDERS = [
  CrmScreensService,
  SyncActivityService,
  AdminControlsScreenService,
  FieldMappingScreenService,
  // FIELD_MAPPING_SCREEN_SOURCE is bound by the field-mapping providers (MAPPING_PROVIDERS) to their adapter.
];

/** What the plugin module exports of them (a host injects CrmScreensService; FIELD_MAPPING_SCREEN_SOURCE too). */
export const SCREEN_EXPORTS = [CrmScreensService, SyncActivityService, FIELD_MAPPING_SCREEN_SOURCE];
