import type { UpsertResult } from '@pm/integration-port';
import { encodeForCrm, type ObjectMapping } from './field-mapping';
import type { InboundItem } from './inbound-matching';
import type { LocalContact, RetryItem } from './ports';
import { revertFields } from './record-planner';
import { pushErrorLine, syncedLine, writeErrorMessage } from './sync-log-messages';
import type { SyncRunScope } from './sync-run-scope';
import { withFieldsWrittenTogether } from './written-together';

/** Records read from the CRM whose local values won (or moved only locally), waiting to be written back. */
export interface HeldPushes {
  object: string;
  mapping: ObjectMapping;
  items: InboundItem[];
}

/**
 * Writes local values back to the CRM records an inbound read found them on. The inbound pass holds these across
 * pages, so that a few pushes spread over many pages (the typical incremental run: 1% edited locally, the CRM's
 * changes read back page by page) go in one full batch instead of one small batch per page.
 */
export class InboundPushBack {
  constructor(private readonly run: SyncRunScope) {}

  /** How many held pushes make a full write batch: beyond it, holding saves no call. */
  get batchSize(): number {
    return Math.max(1, this.run.crm.capabilities.maxWriteBatch);
  }

  /** Writes the items' `toCrm` values; results by CRM id. A refused write keeps its old base and is retried. */
  async write(held: HeldPushes, retryLater: RetryItem[]): Promise<Map<string, UpsertResult>> {
    const { object, mapping, items } = held;
    const { journal, crmName } = this.run;
    const capability = this.run.crm.capabilities.objects.find((candidate) => candidate.name === object);
    const results = await this.run.crm.upsert(
      object,
      items.map((item) => ({
        key: item.record.id,
        crmId: item.record.id,
        fields: withFieldsWrittenTogether(capability, mapping, encodeForCrm(mapping, item.plan.toCrm), {
          crmFields: item.record.fields,
        }),
      })),
    );
    const counts = journal.count('to_crm', object);
    for (const item of items) {
      const result = results.get(item.record.id);
      if (result?.ok) {
        counts.updated++;
        journal.log(
          syncedLine('to_crm', object, item.email, crmName, {
            created: false,
            crmId: item.record.id,
            fields: item.plan.toCrm,
          }),
        );
        continue;
      }
      revertFields(item.plan, item.plan.toCrm, item.link?.synced);
      counts.errors++;
      retryLater.push({
        direction: 'to_crm',
        object,
        recordId: (item.local as LocalContact).id,
        recordKey: item.email,
        error: writeErrorMessage(result),
      });
      journal.log(pushErrorLine(object, item.email, result, crmName));
    }
    return results;
  }
}
