import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261124000000_initial } from './Migration20261124000000_initial';
import { Migration20261124100000_oauth_states } from './Migration20261124100000_oauth_states';
import { Migration20261124110000_rate_budgets } from './Migration20261124110000_rate_budgets';
import { Migration20261124120000_sync_retry_items } from './Migration20261124120000_sync_retry_items';
import { Migration20261205000000_oauth_browser_binding } from './Migration20261205000000_oauth_browser_binding';
import { Migration20261205100000_activities } from './Migration20261205100000_activities';
import { Migration20261206050000_admin_viewer_role } from './Migration20261206050000_admin_viewer_role';

/**
 * Committed migrations, in order, listed explicitly so the compiled build and ts-jest load the same classes.
 * Add a new one by writing `MigrationYYYYMMDDhhmmss_name.ts` next to this file and appending it here.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261124000000_initial', class: Migration20261124000000_initial },
  { name: 'Migration20261124100000_oauth_states', class: Migration20261124100000_oauth_states },
  { name: 'Migration20261124110000_rate_budgets', class: Migration20261124110000_rate_budgets },
  { name: 'Migration20261124120000_sync_retry_items', class: Migration20261124120000_sync_retry_items },
  {
    name: 'Migration20261205000000_oauth_browser_binding',
    class: Migration20261205000000_oauth_browser_binding,
  },
  { name: 'Migration20261205100000_activities', class: Migration20261205100000_activities },
  { name: 'Migration20261206050000_admin_viewer_role', class: Migration20261206050000_admin_viewer_role },
];
