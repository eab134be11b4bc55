import type { FieldProvenance, SyncDirection } from '@pm/domain/model';
import { ConflictResolver, type ConflictResolution } from './conflict-resolver';
import { mappingKey, type LocalValues, type ObjectMapping } from './field-mapping';

/** How one field moved since the last sync, by three-way comparison with the value both sides held then. */
export type FieldChange =
  /** Neither side moved (or both hold what was last synced). */
  | 'none'
  | 'local'
  | 'crm'
  /** Both moved to the same value (or agree on first link): nothing to write, only the base moves. */
  | 'converged'
  | 'conflict';

export type SyncedValues = Record<string, FieldProvenance>;

/** One side of a record as the planner sees it. */
export interface RecordSide {
  values: LocalValues;
  /** The record's own modification time, ISO-8601. */
  modifiedAt: string;
}

export interface PlanInput {
  mapping: ObjectMapping;
  direction: SyncDirection;
  resolver: ConflictResolver;
  /** The last synced values (the link's `synced`); absent for a record not linked yet. */
  base?: SyncedValues;
  local: RecordSide;
  /** Absent: the CRM side is known to still hold the base (outbound, after this run's inbound pass). */
  crm?: RecordSide;
  /** When the plan is made, for provenance. */
  at: string;
  runId?: string;
}

export interface RecordPlan {
  /** Local fields to set, in local form. */
  toLocal: LocalValues;
  /** Fields to write to the CRM, in local form (encode with the mapping). */
  toCrm: LocalValues;
  /** The base after both writes succeed. */
  synced: SyncedValues;
  conflicts: ConflictResolution[];
  /** Per field, what the comparison found (for tests and the log). */
  changes: Partial<Record<string, FieldChange>>;
}

const sameValue = (a: string | null | undefined, b: string | null | undefined): boolean =>
  (a ?? null) === (b ?? null);

/** How `field` moved, given the base (undefined: never synced) and both sides' values. */
export function detectFieldChange(
  base: FieldProvenance | undefined,
  local: string | null,
  crm: string | null,
): FieldChange {
  if (base === undefined) {
    // First link: no history, so a side that has a value "changed" against an empty one.
    if (sameValue(local, crm)) return local === null ? 'none' : 'converged';
    if (local === null) return 'crm';
    if (crm === null) return 'local';
    return 'conflict';
  }
  const baseValue = (base.value ?? null) as string | null;
  const localMoved = !sameValue(local, baseValue);
  const crmMoved = !sameValue(crm, baseValue);
  if (!localMoved && !crmMoved) return 'none';
  if (localMoved && !crmMoved) return 'local';
  if (!localMoved && crmMoved) return 'crm';
  return sameValue(local, crm) ? 'converged' : 'conflict';
}

/**
 * The pure heart of change detection: compares each mapped field of a record three ways (base, local, CRM) and
 * decides what to write where. Only fields that moved are written; a CRM value that equals the base (the engine's
 * own write coming back) is no change, so a bi-directional sync settles and never loops.
 */
export function planRecord(input: PlanInput): RecordPlan {
  const plan: RecordPlan = {
    toLocal: {},
    toCrm: {},
    synced: { ...(input.base ?? {}) },
    conflicts: [],
    changes: {},
  };
  const pushDirection = input.direction !== 'from_crm';
  const pullDirection = input.direction !== 'to_crm';
  const provenance = (
    value: string | null,
    side: FieldProvenance['side'],
    rule: FieldProvenance['rule'],
  ): FieldProvenance => ({ value, side, at: input.at, rule, ...(input.runId ? { runId: input.runId } : {}) });

  for (const entry of input.mapping.fields) {
    const field = mappingKey(entry);
    const base = input.base?.[field];
    const local = input.local.values[field] ?? null;
    const crm = input.crm ? (input.crm.values[field] ?? null) : ((base?.value ?? null) as string | null);
    const change = detectFieldChange(base, local, crm);
    plan.changes[field] = change;
    const canPush = pushDirection && entry.direction !== 'from_crm';
    const canPull = pullDirection && entry.direction !== 'to_crm';
    const firstRule = base === undefined ? 'initial' : 'only_changed_side';

    switch (change) {
      case 'none':
        break;
      case 'converged':
        plan.synced[field] = provenance(local, base?.side ?? 'crm', firstRule);
        break;
      case 'local':
        if (canPush) {
          plan.toCrm[field] = local;
          plan.synced[field] = provenance(local, 'penguinmails', firstRule);
        }
        break;
      case 'crm':
        if (canPull) {
          plan.toLocal[field] = crm;
          plan.synced[field] = provenance(crm, 'crm', firstRule);
        }
        break;
      case 'conflict': {
        if (canPush && canPull) {
          const resolution = input.resolver.resolve({
            field,
            localValue: local,
            crmValue: crm,
            localModifiedAt: input.local.modifiedAt,
            crmModifiedAt: input.crm?.modifiedAt ?? input.local.modifiedAt,
          });
          plan.conflicts.push(resolution);
          if (resolution.winner === 'crm') plan.toLocal[field] = crm;
          else plan.toCrm[field] = local;
          plan.synced[field] = provenance(resolution.value, resolution.winner, resolution.rule);
        } else if (canPush) {
          // One-way to the CRM: the CRM's edits are not PenguinMails' concern; the local value is written.
          plan.toCrm[field] = local;
          plan.synced[field] = provenance(local, 'penguinmails', 'penguinmails_wins');
        } else if (canPull) {
          plan.toLocal[field] = crm;
          plan.synced[field] = provenance(crm, 'crm', 'crm_wins');
        }
        break;
      }
    }
  }
  return plan;
}

export const hasFields = (values: LocalValues): boolean => Object.keys(values).length > 0;

/** Whether any field moved on either side (a record that did not needs no new link snapshot). */
export const hasChanges = (plan: RecordPlan): boolean =>
  Object.values(plan.changes).some((change) => change !== 'none');

/**
 * A write failed (`plan.toCrm` to the CRM, or `plan.toLocal` locally): the base keeps the old values of the fields
 * it carried, so they still count as changed next run and are written then.
 */
export function revertFields(plan: RecordPlan, written: LocalValues, base: SyncedValues | undefined): void {
  for (const field of Object.keys(written)) {
    if (base?.[field]) plan.synced[field] = base[field];
    else delete plan.synced[field];
  }
}
