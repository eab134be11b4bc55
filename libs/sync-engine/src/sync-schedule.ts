import type { SyncFrequency } from '@pm/domain/model';

const MINUTE = 60_000;

/** How long after a run's start the next scheduled one is due; null: manual only. */
export function frequencyIntervalMs(frequency: SyncFrequency): number | null {
  switch (frequency) {
    case 'every_5_minutes':
      return 5 * MINUTE;
    case 'every_15_minutes':
      return 15 * MINUTE;
    case 'hourly':
      return 60 * MINUTE;
    case 'daily':
      return 24 * 60 * MINUTE;
    case 'manual':
      return null;
  }
}

/**
 * When a connection is next due: by its frequency after the last run, unless it is paused until later. Never run
 * before: due now. Manual: never (only "Sync now").
 */
export function nextSyncDue(input: {
  frequency: SyncFrequency;
  lastSyncAt: Date | null;
  pausedUntil?: Date | null;
  now: Date;
}): Date | null {
  const interval = frequencyIntervalMs(input.frequency);
  if (interval === null) return null;
  const byFrequency = input.lastSyncAt ? new Date(input.lastSyncAt.getTime() + interval) : input.now;
  if (input.pausedUntil && input.pausedUntil > byFrequency) return input.pausedUntil;
  return byFrequency;
}
