import { CrmError } from '@pm/integration-port';
import { classifyRunFailure } from './connection-health';
import type { ContactSyncOutcome, ContactSyncRunnerDeps } from './contact-sync-runner';
import { OutboundBatch } from './outbound-batch';
import type { SyncConnection } from './ports';
import { RunJournal } from './run-journal';
import { openRunScope } from './run-scope-builder';
import type { SyncRunScope } from './sync-run-scope';

export interface ContactPushRequest {
  connection: SyncConnection;
  /** The contacts that changed (deleted ones included); read afresh, so a later edit rides along. */
  contactIds: string[];
  /** Names the push in plans and provenance; its log lines belong to no sync run. */
  pushId: string;
  signal?: AbortSignal;
}

/**
 * The immediate push: PenguinMails → CRM for just the contacts an API call changed, through the outbound path a
 * sync uses (the same planning, e-mail matching, batching at the connector's limit, deletions and links), with no
 * read of other changes. Nothing moves a cursor: the next sync re-reads these contacts, finds their links up to date
 * and writes nothing. A CRM event coming back for a pushed value finds the link holding it: no echo.
 */
export class ContactPushRunner {
  constructor(private readonly deps: ContactSyncRunnerDeps) {}

  async run(request: ContactPushRequest): Promise<ContactSyncOutcome> {
    const { connection } = request;
    const journal = new RunJournal(connection, null, this.deps.log, this.deps.retries);
    let scope: SyncRunScope | undefined;
    try {
      const opened = await openRunScope(
        this.deps,
        { connection, runId: request.pushId, signal: request.signal },
        journal,
      );
      scope = opened.scope;
      if (connection.settings.direction !== 'from_crm' && opened.objects.length > 0) {
        const ids = [...new Set(request.contactIds)];
        const contacts = await this.deps.locals.findByIds(connection.tenantId, ids);
        await new OutboundBatch(scope).push(opened.objects, contacts);
      }
      await journal.flush();
      return {
        status: journal.counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: journal.counts.toJSON(),
        retriedCalls: scope.crm.retriedCalls,
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
      };
    }
  }
}
