import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
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
export class ReconcileScheduler {
  private readonly logger = new Logger('ReconcileScheduler');
  private ticking = false;

  constructor(
    private readonly reconciles: ReconcileService,
    @Optional() @Inject(RECONCILE_SCHEDULER_ENABLED) private readonly enabled: boolean = true,
  ) {}

  @Interval('crm-reconcile-scheduler', RECONCILE_TICK_MS)
  async onTick(): Promise<void> {
    if (!this.enabled || this.ticking) return;
    this.ticking = true;
    try {
      await this.tick(new Date());
    } catch (error) {
      this.logger.error(`Reconcile tick failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
    }
  }

  /** Queues a reconcile of every connection due at `now`; returns the ids queued. */
  tick(now: Date): Promise<string[]> {
    return this.reconciles.queueDue(now, RECONCILE_INTERVAL_MS);
  }
}
