import { Injectable } from '@nestjs/common';
import { inBatches } from '@pm/connector-kit';
import type { CrmConnection } from '@pm/domain';
import { CrmErrorCode, type UpsertResult } from '@pm/integration-port';
import type { PlannedContactUpdate } from './activity-inputs';
import { ActivityRepository, type LogLine } from './activity.repository';
import { deliveryBatchSize, type DeliveryCall, type DeliveryCounts } from './delivery-call';

/**
 * Sets the fields an unsubscribe or a hard bounce writes on the CRM contact (the connector's declared
 * `emailStatusFields`), in batches per object at the connector's limit. An unsubscribe is settled by its write; a
 * bounce by its own activity record (a refused field is logged with the CRM's message, nothing more).
 */
@Injectable()
export class ContactStatusWriter {
  constructor(private readonly repository: ActivityRepository) {}

  /** Returns the error that stopped it (a rate limit, an outage, refused credentials), or null when all were tried. */
  async write(
    connection: CrmConnection,
    delivery: DeliveryCall,
    updates: PlannedContactUpdate[],
    counts: DeliveryCounts,
  ): Promise<{ error: unknown } | null> {
    const byObject = new Map<string, PlannedContactUpdate[]>();
    for (const update of updates)
      byObject.set(update.object, [...(byObject.get(update.object) ?? []), update]);
    const batchSize = deliveryBatchSize(delivery.port.capabilities(), 'upsertBatch');
    for (const [object, objectUpdates] of byObject) {
      for (const batch of inBatches(objectUpdates, batchSize)) {
        let results: UpsertResult[];
        try {
          results = await delivery.call((session) =>
            delivery.port.upsertBatch(session, {
              object,
              records: batch.map((update) => ({
                key: update.crmId,
                crmId: update.crmId,
                fields: update.fields,
              })),
            }),
          );
        } catch (error) {
          return { error };
        }
        await this.record(connection, delivery.crmName, object, batch, results, counts);
      }
    }
    return null;
  }

  private async record(
    connection: CrmConnection,
    crmName: string,
    object: string,
    batch: PlannedContactUpdate[],
    results: UpsertResult[],
    counts: DeliveryCounts,
  ): Promise<void> {
    const delivered: { deliveryId: string; crmId: string }[] = [];
    const lines: LogLine[] = [];
    for (const [index, update] of batch.entries()) {
      const result = results[index];
      counts.writes++;
      const label = update.labels.join(', ');
      const base = {
        tenantId: connection.tenant.id,
        connectionId: connection.id,
        object: 'activity',
        recordKey: update.email,
      };
      if (result?.ok) {
        for (const deliveryId of update.deliveryIds) delivered.push({ deliveryId, crmId: update.crmId });
        counts.logged += update.deliveryIds.length;
        lines.push({
          ...base,
          action: 'updated',
          message: `Contact updated: ${label} → ${crmName}`,
          details: { crmId: update.crmId, crmObject: object, fields: Object.keys(update.fields) },
        });
        continue;
      }
      const error = result?.error ?? {
        code: CrmErrorCode.UNKNOWN,
        message: 'The connector returned no result',
      };
      await this.repository.markFailed(update.deliveryIds, `${error.code}: ${error.message}`);
      counts.failed += update.deliveryIds.length;
      lines.push({
        ...base,
        action: 'error',
        message: `Contact not updated: ${label} → ${crmName}: ${error.message}`,
        details: { code: error.code, crmId: update.crmId, crmObject: object },
      });
    }
    await this.repository.markDelivered(delivered);
    await this.repository.writeLog(lines);
  }
}
