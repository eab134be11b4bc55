import { CrmError, type DeletedRecord } from '@pm/integration-port';
import { CompanySync } from './company-sync';
import { classifyRunFailure } from './connection-health';
import { CrmGateway } from './crm-gateway';
import { ContactSyncRunner, type ContactSyncOutcome } from './contact-sync-runner';
import { crmFieldsToRead } from './field-mapping';
import { InboundPass } from './inbound-pass';
import { RunJournal } from './run-journal';
import type { SyncConnection } from './ports';

/** Records of one CRM object a change hint named. */
export interface TargetedSyncTarget {
  object: string;
  crmIds: string[];
}

export interface TargetedSyncRequest {
  connection: SyncConnection;
  runId: string;
  targets: TargetedSyncTarget[];
  signal?: AbortSignal;
}

/** What the CRM said about one named record: it holds it (applied as read), or it is gone (a deletion). */
export type TargetedRecordState = 'present' | 'gone' | 'ignored';

export interface TargetedSyncOutcome extends ContactSyncOutcome {
  /** Per "object|crmId": what the read found (`ignored`: an object or direction this connection does not sync). */
  records: Map<string, TargetedRecordState>;
}

/** The key of one record in `TargetedSyncOutcome.records`. */
export const targetKey = (object: string, crmId: string): string => `${object}|${crmId}`;

/**
 * A sync of named records only, for change hints (webhooks, change data capture): each record's current state is
 * read from the CRM by id, and applied by the very pass the scheduled sync uses (matching, conflict policy, link
 * snapshots, pushing back local winners, deletions by the connection's rules). A hint is never trusted: a record
 * the hint says was deleted but the CRM still returns is applied as it is, and only a record the CRM no longer
 * returns is a deletion. No cursor moves, so the scheduled sync still reads everything it would have. Companies
 * (the company object the connection's settings select) go through the company sync's own inbound pass.
 */
export class TargetedSyncRunner extends ContactSyncRunner {
  async runTargeted(request: TargetedSyncRequest): Promise<TargetedSyncOutcome> {
    const { connection } = request;
    const journal = new RunJournal(connection, request.runId, this.deps.log, this.deps.retries);
    const records = new Map<string, TargetedRecordState>();
    for (const target of request.targets) {
      for (const id of target.crmIds) records.set(targetKey(target.object, id), 'ignored');
    }
    let crm: CrmGateway | undefined;
    try {
      crm = await this.openGateway(request);
      const { scope, objects } = await this.scopeWithMappings(request, crm, journal);
      const fromCrm = connection.settings.direction !== 'to_crm';
      const synced = new Set(fromCrm ? objects : []);
      // Companies as the scheduled run syncs them (settings select the company object, a company mapping exists):
      // applied before contacts, as there, so a contact's company is current when the contact is.
      const companies = fromCrm
        ? await CompanySync.forRun(scope, this.deps.companies, objects, this.deps.companyMappings)
        : undefined;
      const companyTargets = request.targets.filter(
        (target) => target.object === companies?.object && target.crmIds.length > 0,
      );
      if (companies && companyTargets.length > 0) {
        const ids = [...new Set(companyTargets.flatMap((target) => target.crmIds))];
        const present = await companies.inboundNamed(ids);
        for (const id of ids)
          records.set(targetKey(companies.object, id), present.has(id) ? 'present' : 'gone');
      }
      const inbound = new InboundPass(scope);
      for (const target of request.targets) {
        if (!synced.has(target.object) || target.crmIds.length === 0) continue;
        const mapping = scope.mapping(target.object);
        const ids = [...new Set(target.crmIds)];
        const found = await crm.getRecords({ object: target.object, ids, fields: crmFieldsToRead(mapping) });
        const present = new Set(found.map((record) => record.id));
        const at = scope.now().toISOString();
        const gone: DeletedRecord[] = ids
          .filter((id) => !present.has(id))
          .map((id) => ({ id, object: target.object, deletedAt: at }));
        await inbound.applyPage(target.object, mapping, { records: found, deleted: gone });
        await journal.flush();
        for (const id of ids) records.set(targetKey(target.object, id), present.has(id) ? 'present' : 'gone');
      }
      await journal.flush();
      return {
        status: journal.counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: journal.counts.toJSON(),
        retriedCalls: crm.retriedCalls,
        records,
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
        records,
      };
    }
  }
}
