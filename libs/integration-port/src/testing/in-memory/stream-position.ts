import { CrmError, CrmErrorCode } from '../../errors';
import { IN_MEMORY_PROVIDER } from './provider';

/** Position of an entry in the change stream: (time, numeric id). */
export interface StreamPosition {
  at: number;
  id: number;
}

export function comparePositions(a: StreamPosition, b: StreamPosition): number {
  return a.at - b.at || a.id - b.id;
}

export function instantMs(value: string, what: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `${what} is not a valid timestamp: ${value}`, {
      provider: IN_MEMORY_PROVIDER,
    });
  }
  return ms;
}
