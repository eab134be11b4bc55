import type { ReconcileDrift } from '@pm/domain/model';
import { CrmError } from '@pm/integration-port';
import { classifyRunFailure } from './connection-health';
import type { ContactSyncOutcome, ContactSyncRequest, ContactSyncRunnerDeps } from './contact-sync-runner';
import { ReconcilePass } from './reconcile-pass';
import { RunJournal } from './run-journal';
import { openRunScope } from './run-scope-builder';
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
  constructor(private readonly deps: ContactSyncRunnerDeps) {}

  async run(request: ContactSyncRequest): Promise<ReconcileOutcome> {
    const journal = new RunJournal(request.connection, request.runId, this.deps.log, this.deps.retries);
    let scope: SyncRunScope | undefined;
    let drift: ReconcileDrift = {};
    try {
      const opened = await openRunScope(this.deps, request, journal);
      scope = opened.scope;
      drift = await new ReconcilePass(scope).reconcile(opened.objects);
      await journal.flush();
      return {
        status: journal.counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: journal.counts.toJSON(),
        retriedCalls: scope.crm.retriedCalls,
        drift,
      };
    } catch (error) {
      if (scope) await journal.flush().catch(() => undefined);
      const failure = classifyRunFailure(error);
      return {
        status: failure === 'aborted' ? 'cancelled' : 'failed',
        counts: journal.counts.toJSON(),
        error,
        failure,
        retryAfterMs: error instanceof CrmError ? error.retryAfterMs : undefined,
        retriedCalls: scope?.crm.retriedCalls ?? 0,
        drift,
      };
    }
  }
}
