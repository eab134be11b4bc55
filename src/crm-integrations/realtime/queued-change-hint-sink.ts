import { Inject, Injectable, Optional } from '@nestjs/common';
import { ChangeHintRepository, type StoredHintInput } from '../repositories';
import type { ChangeHint, ChangeHintSink } from './change-hints';
import { ChangeHintQueue } from './change-hint-queue';
import { REALTIME_OPTIONS, resolveRealtimeOptions, type RealtimeOptions } from './realtime.tokens';

/**
 * The `ChangeHintSink` every channel hands its hints to: each named record is stored as a row (a repeated event id
 * is stored once), then one targeted sync per connection is queued to start after the debounce window, so a burst
 * of hints about one record, or many records, is applied by one read. Rows survive a restart; the queue is only
 * the wake-up.
 */
@Injectable()
export class QueuedChangeHintSink implements ChangeHintSink {
  private readonly options: ReturnType<typeof resolveRealtimeOptions>;

  constructor(
    private readonly hints: ChangeHintRepository,
    private readonly queue: ChangeHintQueue,
    @Optional() @Inject(REALTIME_OPTIONS) options?: RealtimeOptions,
  ) {
    this.options = resolveRealtimeOptions(options);
  }

  async accept(hints: readonly ChangeHint[]): Promise<void> {
    const rows: StoredHintInput[] = hints.flatMap((hint) =>
      [...new Set(hint.crmIds)]
        .filter((crmId) => crmId !== '')
        .map((crmId) => ({
          connectionId: hint.connectionId,
          object: hint.object,
          crmId,
          action: hint.action,
          eventId: hint.eventId ?? null,
          occurredAt: hint.occurredAt,
        })),
    );
    if (rows.length === 0) return;
    const now = this.options.now();
    await this.hints.insert(rows, now);
    for (const connectionId of new Set(rows.map((row) => row.connectionId))) {
      await this.queue.enqueue(connectionId, this.options.debounceMs);
    }
  }
}
