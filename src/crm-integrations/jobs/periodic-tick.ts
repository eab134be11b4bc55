import { Logger } from '@nestjs/common';

/**
 * A timer-driven pass (the sync and reconcile schedulers): a tick that finds the previous one still running is
 * skipped, and a failing tick is logged, so the timer goes on and the next tick tries again.
 */
export abstract class PeriodicTick {
  private ticking = false;

  protected constructor(
    private readonly logger: Logger,
    private readonly enabled: boolean,
  ) {}

  /** The pass itself, at `now`. */
  abstract tick(now: Date): Promise<unknown>;

  /** What the timer calls (the subclass's `@Interval` method). */
  protected async guardedTick(): Promise<void> {
    if (!this.enabled || this.ticking) return;
    this.ticking = true;
    try {
      await this.tick(new Date());
    } catch (error) {
      this.logger.error(`Tick failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.ticking = false;
    }
  }
}
