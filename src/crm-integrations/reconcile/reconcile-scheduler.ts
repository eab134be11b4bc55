import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { PeriodicTick } from '../jobs/periodic-tick';
import { ReconcileService } from './reconcile.service';

/** How often the scheduler looks for connections due a reconcile. */
export const RECONCILE_TICK_MS = 300_000;

/** Each connected connection is reconciled this often. */
export const RECONCILE_INTERVAL_MS = 3_600_000;

export const RECONCILE_SCHEDULER_ENABLED = Symbol('RECONCILE_SCHEDULER_ENABLED');

/**
 * The periodic reconcile: every connected connection whose last reconcile was queued more than an hour ago gets
 * one. Several processes may tick at once; a connection has one waiting reconcile at most, so that costs nothing.
 */
@Injectable()
export class ReconcileScheduler extends PeriodicTick {
  constructor(
    private readonly reconciles: ReconcileService,
    @Optional() @Inject(RECONCILE_SCHEDULER_ENABLED) enabled: boolean = true,
  ) {
    super(new Logger('ReconcileScheduler'), enabled);
  }

  @Interval('crm-reconcile-scheduler', RECONCILE_TICK_MS)
  onTick(): Promise<void> {
    return this.guardedTick();
  }

  /** Queues a reconcile of every connection due at `now`; returns the ids queued. */
  tick(now: Date): Promise<string[]> {
    return this.reconciles.queueDue(now, RECONCILE_INTERVAL_MS);
  }
}
