import type { LinkSnapshot } from './ports';
import type { RecordPlan } from './record-planner';
import { LOCAL_CONTACT_OBJECT } from './sync-run-scope';

/** What a link records after a record synced: which pair it joins, the values both sides now hold, and when. */
export interface SyncedPair {
  /** The link as it was; absent for a first link. */
  link?: LinkSnapshot;
  localId: string;
  crmObject: string;
  crmId: string;
  plan: RecordPlan;
  localUpdatedAt: Date | null;
  crmModifiedAt: Date | null;
  at: Date;
}

/** The link snapshot to save for a synced pair (an update of `link` when there was one). */
export function linkSnapshot(pair: SyncedPair): LinkSnapshot {
  return {
    id: pair.link?.id,
    localObject: LOCAL_CONTACT_OBJECT,
    localId: pair.localId,
    crmObject: pair.crmObject,
    crmId: pair.crmId,
    synced: pair.plan.synced,
    localUpdatedAt: pair.localUpdatedAt,
    crmModifiedAt: pair.crmModifiedAt,
    lastSyncedAt: pair.at,
  };
}

/** The CRM's modification time after a write, else as last seen. */
export function crmModifiedAfter(
  written: { modifiedAt?: string } | undefined,
  seen: Date | null,
): Date | null {
  return written?.modifiedAt ? new Date(written.modifiedAt) : seen;
}
