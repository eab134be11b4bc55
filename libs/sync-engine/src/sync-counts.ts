import type { SyncCounts, SyncRunCounts } from '@pm/domain/model';

export const emptyCounts = (): SyncCounts => ({
  created: 0,
  updated: 0,
  skipped: 0,
  conflicts: 0,
  errors: 0,
  deleted: 0,
});

/** Counts per direction and object, created on first touch. */
export class SyncCountsBuilder {
  private readonly counts: SyncRunCounts = {};

  for(direction: 'to_crm' | 'from_crm', object: string): SyncCounts {
    const byObject = (this.counts[direction] ??= {});
    return (byObject[object] ??= emptyCounts());
  }

  total(key: keyof SyncCounts): number {
    let sum = 0;
    for (const byObject of Object.values(this.counts))
      for (const counts of Object.values(byObject)) sum += counts[key];
    return sum;
  }

  toJSON(): SyncRunCounts {
    return JSON.parse(JSON.stringify(this.counts)) as SyncRunCounts;
  }
}
