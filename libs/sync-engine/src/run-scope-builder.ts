import {
  ContactSyncRunner,
  type ContactSyncRequest,
  type ContactSyncRunnerDeps,
} from './contact-sync-runner';
import type { RunJournal } from './run-journal';
import type { SyncRunScope } from './sync-run-scope';

/**
 * Opens the CRM gateway and builds the run scope for an engine run other than the scheduled sync (a reconcile, an
 * immediate push), exactly as the sync runner would (its defaults, its mappings read once), and names the contact
 * objects a sync of the connection covers.
 */
export function openRunScope(
  deps: ContactSyncRunnerDeps,
  request: ContactSyncRequest,
  journal: RunJournal,
): Promise<{ scope: SyncRunScope; objects: string[] }> {
  return new ContactSyncRunner(deps).openScope(request, journal);
}
