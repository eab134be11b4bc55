import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261124000000_initial } from './Migration20261124000000_initial';
import { Migration20261124100000_oauth_states } from './Migration20261124100000_oauth_states';
import { Migration20261124110000_rate_budgets } from './Migration20261124110000_rate_budgets';
import { Migration20261124120000_sync_retry_items } from './Migration20261124120000_sync_retry_items';
import { Migration20261205000000_oauth_browser_binding } from './Migration20261205000000_oauth_browser_binding';
import { Migration20261205100000_activities } from './Migration20261205100000_activities';
import { Migration20261206010000_field_mappings } from './Migration20261206010000_field_mappings';
import { Migration20261206020000_companies } from './Migration20261206020000_companies';
import { Migration20261206030000_contact_feed_webhooks } from './Migration20261206030000_contact_feed_webhooks';
import { Migration20261206040000_service_token_expiry } from './Migration20261206040000_service_token_expiry';
import { Migration20261206050000_admin_viewer_role } from './Migration20261206050000_admin_viewer_role';
import { Migration20261206060000_contact_email_status } from './Migration20261206060000_contact_email_status';
import { Migration20261206090000_realtime } from './Migration20261206090000_realtime';
import { Migration20261206100000_change_stream_positions } from './Migration20261206100000_change_stream_positions';
import { Migration20261206110000_reconcile_drift } from './Migration20261206110000_reconcile_drift';
import { Migration20261206140000_company_custom_fields } from './Migration20261206140000_company_custom_fields';
import { Migration20261207110000_contact_custom_field_key } from './Migration20261207110000_contact_custom_field_key';
import { Migration20261207160000_change_stream_leases } from './Migration20261207160000_change_stream_leases';
import { Migration20261207170000_retention } from './Migration20261207170000_retention';

/**
 * Committed migrations, in order, listed explicitly so the compiled build and ts-jest load the same classes.
 * Add a new one by writing `MigrationYYYYMMDDhhmmss_name.ts` next to this file and appending it here.
 */
export const MIGRATIONS: MigrationObject[] = [
  Migration20261124000000_initial,
  Migration20261124100000_oauth_states,
  Migration20261124110000_rate_budgets,
  Migration20261124120000_sync_retry_items,
  Migration20261205000000_oauth_browser_binding,
  Migration20261205100000_activities,
  Migration20261206010000_field_mappings,
  Migration20261206020000_companies,
  Migration20261206030000_contact_feed_webhooks,
  Migration20261206040000_service_token_expiry,
  Migration20261206050000_admin_viewer_role,
  Migration20261206060000_contact_email_status,
  Migration20261206090000_realtime,
  Migration20261206100000_change_stream_positions,
  Migration20261206110000_reconcile_drift,
  Migration20261206140000_company_custom_fields,
  Migration20261207110000_contact_custom_field_key,
  Migration20261207160000_change_stream_leases,
  Migration20261207170000_retention,
].map((migration) => ({ name: migration.name, class: migration }));
