import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { frequencyIntervalMs } from '@pm/sync-engine';
import { PeriodicTick } from '../jobs/periodic-tick';
import { SyncRuns } from './sync-runs';

/** How often the scheduler looks for due connections (the frequency itself is per connection). */
export const SYNC_TICK_MS = 30_000;

export const SYNC_SCHEDULER_ENABLED = Symbol('SYNC_SCHEDULER_ENABLED');

/**
 * The @nestjs/schedule tick: enqueues each connection due by its frequency. Several worker processes may tick at
 * once; the queue keeps one waiting job per connection, so that costs nothing. Manual-only connections, paused ones
 * (until their pause ends), disconnected ones, inactive tenants and providers an admin disabled are never enqueued.
 */
@Injectable()
export class SyncScheduler extends PeriodicTick {
  constructor(
    private readonly runs: SyncRuns,
    @Optional() @Inject(SYNC_SCHEDULER_ENABLED) enabled: boolean = true,
  ) {
    super(new Logger('SyncScheduler'), enabled);
  }

  @Interval('crm-sync-scheduler', SYNC_TICK_MS)
  onTick(): Promise<void> {
    return this.guardedTick();
  }

  /** Enqueues every connection due at `now`; returns the ids enqueued. */
  async tick(now: Date): Promise<string[]> {
    const candidates = await this.runs.schedulable(now);
    const enqueued: string[] = [];
    const due: { id: string; at: Date }[] = [];
    for (const connection of candidates) {
      const interval = frequencyIntervalMs(connection.settings.frequency);
      if (interval === null) continue;
      if (await this.runs.whyNotRunnable(connection)) continue;
      const trigger = connection.lastSyncAt ? 'scheduled' : 'initial';
      const { queued } = await this.runs.request(
        { id: connection.id, tenantId: connection.tenant.id },
        trigger,
      );
      // Not due again until this run has had its chance; the run itself sets the real next time.
      due.push({ id: connection.id, at: new Date(now.getTime() + interval) });
      if (queued) enqueued.push(connection.id);
    }
    await this.runs.setNextSyncAt(due);
    return enqueued;
  }
}
