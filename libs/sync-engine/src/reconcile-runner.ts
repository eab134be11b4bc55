import { abortableSleep, DEFAULT_RETRY_POLICY } from '@pm/connector-kit';
import type { ReconcileDrift } from '@pm/domain/model';
import { CrmError } from '@pm/integration-port';
import { ConflictResolver } from './conflict-resolver';
import { classifyRunFailure } from './connection-health';
import type { ContactSyncOutcome, ContactSyncRequest, ContactSyncRunnerDeps } from './contact-sync-runner';
import { CrmGateway } from './crm-gateway';
import { DefaultFieldMappingSource, type FieldMappingSource } from './field-mapping';
import { ReconcilePass } from './reconcile-pass';
import { RunJournal } from './run-journal';
import type { SyncRunScope } from './sync-run-scope';

export interface ReconcileOutcome extends ContactSyncOutcome {
  /** What the reconcile found, by object; empty when it stopped before reading. */
  drift: ReconcileDrift;
}

/**
 * Runs one connection's reconcile (see `ReconcilePass`) with the same dependencies, gateway, journal and policies
 * as a contact sync run, and reports it the same way plus the drift it found. Repairs count in the run's counts
 * like any sync's writes.
 */
export class ReconcileRunner {
  private readonly clock: () => Date;

  constructor(private readonly deps: ContactSyncRunnerDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async run(request: ContactSyncRequest): Promise<ReconcileOutcome> {
    const { connection } = request;
    const journal = new RunJournal(connection, request.runId, this.deps.log, this.deps.retries);
    const options = {
      localPageSize: 500,
      localOverlapMs: 5_000,
      retryPolicy: DEFAULT_RETRY_POLICY,
      sleep: abortableSleep,
      findByEmailChunk: 100,
      openInstantMs: 60_000,
      ...this.deps.options,
    };
    let crm: CrmGateway | undefined;
    let drift: ReconcileDrift = {};
    try {
      crm = await CrmGateway.open(this.deps.port, this.deps.sessions, connection.id, options, request.signal);
      const mappings = this.deps.mappings ?? new DefaultFieldMappingSource(this.deps.port);
      const scope: SyncRunScope = {
        connection,
        runId: request.runId,
        signal: request.signal,
        crm,
        journal,
        links: this.deps.links,
        cursors: this.deps.cursors,
        locals: this.deps.locals,
        crmName: crm.capabilities.shortName ?? crm.capabilities.displayName,
        resolver: new ConflictResolver(connection.settings.conflictPolicy),
        tuning: options,
        now: this.clock,
        mapping: (object) => {
          const mapping = mappings.mappingFor(connection.provider, object);
          if (!mapping) throw new Error(`No field mapping for ${connection.provider} ${object}`);
          return mapping;
        },
      };
      drift = await new ReconcilePass(scope).reconcile(syncedObjects(scope, mappings));
      await journal.flush();
      return {
        status: journal.counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: journal.counts.toJSON(),
        retriedCalls: crm.retriedCalls,
        drift,
      };
    } catch (error) {
      if (crm) await journal.flush().catch(() => undefined);
      const failure = classifyRunFailure(error);
      return {
        status: failure === 'aborted' ? 'cancelled' : 'failed',
        counts: journal.counts.toJSON(),
        error,
        failure,
        retryAfterMs: error instanceof CrmError ? error.retryAfterMs : undefined,
        retriedCalls: crm?.retriedCalls ?? 0,
        drift,
      };
    }
  }
}

/** The CRM contact objects a sync of the connection covers (the same choice the sync runner makes). */
function syncedObjects(scope: SyncRunScope, mappings: FieldMappingSource): string[] {
  const contactObjects = scope.crm.capabilities.objects
    .filter((object) => object.role === 'contact')
    .map((object) => object.name);
  const selected = scope.connection.settings.objects;
  const wanted =
    selected.length === 0 ? contactObjects.slice(0, 1) : selected.filter((o) => contactObjects.includes(o));
  return wanted.filter((object) => mappings.mappingFor(scope.connection.provider, object) !== undefined);
}
