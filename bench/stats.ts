/** Median, min and max of one figure over the runs of a case; null when no run produced it. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function figure(samples: Array<number | null | undefined>): Figure | null {
  const values = samples.filter(
    (value): value is number => typeof value === 'number' && Number.isFinite(value),
  );
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples: values };
}

/** `1,234 (1,200–1,300)`: the median, with min–max when the runs differ. */
export function formatFigure(value: Figure | null, digits = 0): string {
  if (!value) return '—';
  const format = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  return value.min === value.max
    ? format(value.median)
    : `${format(value.median)} (${format(value.min)}–${format(value.max)})`;
}

/** The p-th percentile (0–100) by linear interpolation between the closest ranks; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}
