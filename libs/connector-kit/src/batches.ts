/**
 * The one chunker: `items` in consecutive batches of at most `size` (a CRM's per-call limit). Every batched CRM call
 * (writes, look-ups by id or e-mail, deletes, activities) splits its input here, so a limit is applied the same way
 * everywhere.
 */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`A batch size must be a positive integer, got ${size}`);
  }
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    batches.push(items.slice(start, start + size));
  }
  return batches;
}
