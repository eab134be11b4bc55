export * from './crm-screens.service';
export * from './sync-activity.service';
export * from './screen-views';

import { CrmScreensService } from './crm-screens.service';
import { SyncActivityService } from './sync-activity.service';

/** The screens' services: registered and exported by the plugin module, handed to the AdminJS contribution. */
export const SCREEN_PROVIDERS = [CrmScreensService, SyncActivityService];
