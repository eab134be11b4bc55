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
import { DefaultFieldMappingSource, FIELD_MAPPING_SCREEN_SOURCE } from './field-mapping-screen';
import { SyncActivityService } from './sync-activity.service';

/** The screens' services: registered and exported by the plugin module, handed to the AdminJS contribution. */
export const SCREEN_PROVIDERS = [
  CrmScreensService,
  SyncActivityService,
  AdminControlsScreenService,
  FieldMappingScreenService,
  DefaultFieldMappingSource,
  // The field-mapping service binds itself here to make the Field mapping page editable.
  { provide: FIELD_MAPPING_SCREEN_SOURCE, useExisting: DefaultFieldMappingSource },
];

/** What the plugin module exports of them (a host injects CrmScreensService; the mapping service may rebind). */
export const SCREEN_EXPORTS = [CrmScreensService, SyncActivityService, FIELD_MAPPING_SCREEN_SOURCE];
