import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import {
  CRM_INTEGRATIONS_OPTIONS,
  RETENTION_DEFAULTS,
  type CrmIntegrationsOptions,
} from '../crm-integrations.options';
import { PeriodicTick } from '../jobs/periodic-tick';
import { RetentionRepository } from '../repositories';

export const RETENTION_TICK_MS = 3_600_000;
export const RETENTION_ENABLED = Symbol('RETENTION_ENABLED');

/** Rows one statement deletes: short transactions, whatever the backlog. */
const BATCH = 5_000;
const DAY_MS = 86_400_000;

/** What one retention pass deleted, per kind. */
export interface RetentionOutcome {
  changeFeed: number;
  webhookDeliveries: number;
  syncLog: number;
}

/**
 * The hourly retention pass of a worker process: deletes change feed entries, settled webhook deliveries and sync log
 * lines older than their configured days, in batches. Several workers may run it at once; deleting twice is
 * harmless. The audit log is never deleted (it is append-only at the database).
 */
@Injectable()
export class RetentionService extends PeriodicTick {
  private readonly days: Required<NonNullable<CrmIntegrationsOptions['retention']>>;

  constructor(
    private readonly retention: RetentionRepository,
    @Inject(CRM_INTEGRATIONS_OPTIONS) options: CrmIntegrationsOptions,
    @Optional() @Inject(RETENTION_ENABLED) enabled: boolean = true,
  ) {
    super(new Logger('RetentionService'), enabled);
    this.days = { ...RETENTION_DEFAULTS, ...options.retention };
  }

  @Interval('crm-retention', RETENTION_TICK_MS)
  onTick(): Promise<void> {
    return this.guardedTick();
  }

  async tick(now: Date): Promise<RetentionOutcome> {
    const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
    return {
      changeFeed: await drain((batch) =>
        this.retention.pruneContactChanges(before(this.days.changeFeedDays), batch),
      ),
      webhookDeliveries: await drain((batch) =>
        this.retention.pruneWebhookDeliveries(before(this.days.webhookDeliveryDays), batch),
      ),
      syncLog: await drain((batch) => this.retention.pruneSyncLog(before(this.days.syncLogDays), batch)),
    };
  }
}

/** Deletes batch after batch until one comes back short. */
async function drain(prune: (batch: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await prune(BATCH);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}
