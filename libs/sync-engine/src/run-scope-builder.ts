import { abortableSleep, DEFAULT_RETRY_POLICY } from '@pm/connector-kit';
import { ConflictResolver } from './conflict-resolver';
import type { ContactSyncRequest, ContactSyncRunnerDeps } from './contact-sync-runner';
import { CrmGateway } from './crm-gateway';
import { DefaultFieldMappingSource } from './field-mapping';
import type { RunJournal } from './run-journal';
import type { SyncRunScope } from './sync-run-scope';

/**
 * Opens the CRM gateway and builds the run scope for an engine run other than the scheduled sync (a reconcile, an
 * immediate push), with the sync runner's defaults, and names the contact objects a sync of the connection covers.
 */
export async function openRunScope(
  deps: ContactSyncRunnerDeps,
  request: ContactSyncRequest,
  journal: RunJournal,
): Promise<{ scope: SyncRunScope; objects: string[] }> {
  const { connection } = request;
  const options = {
    localPageSize: 500,
    localOverlapMs: 5_000,
    retryPolicy: DEFAULT_RETRY_POLICY,
    sleep: abortableSleep,
    findByEmailChunk: 100,
    openInstantMs: 60_000,
    ...deps.options,
  };
  const crm = await CrmGateway.open(deps.port, deps.sessions, connection.id, options, request.signal);
  const mappings = deps.mappings ?? new DefaultFieldMappingSource(deps.port);
  const scope: SyncRunScope = {
    connection,
    runId: request.runId,
    signal: request.signal,
    crm,
    journal,
    links: deps.links,
    cursors: deps.cursors,
    locals: deps.locals,
    crmName: crm.capabilities.shortName ?? crm.capabilities.displayName,
    resolver: new ConflictResolver(connection.settings.conflictPolicy),
    tuning: options,
    now: deps.clock ?? (() => new Date()),
    mapping: (object) => {
      const mapping = mappings.mappingFor(connection.provider, object);
      if (!mapping) throw new Error(`No field mapping for ${connection.provider} ${object}`);
      return mapping;
    },
  };
  // The CRM contact objects the settings select that have a mapping; none selected: the first contact object.
  const contactObjects = crm.capabilities.objects
    .filter((object) => object.role === 'contact')
    .map((object) => object.name);
  const selected = connection.settings.objects;
  const wanted =
    selected.length === 0 ? contactObjects.slice(0, 1) : selected.filter((o) => contactObjects.includes(o));
  const objects = wanted.filter((object) => mappings.mappingFor(connection.provider, object) !== undefined);
  return { scope, objects };
}
