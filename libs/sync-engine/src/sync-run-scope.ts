import type { ConflictResolver } from './conflict-resolver';
import type { CrmGateway } from './crm-gateway';
import type { ObjectMapping } from './field-mapping';
import type { FormulaLimits } from './mapping-formulas';
import type { CursorStore, LinkStore, LocalContact, LocalContactStore, SyncConnection } from './ports';
import { planRecord, type RecordPlan, type RecordSide, type SyncedValues } from './record-planner';
import type { RunJournal } from './run-journal';

/** The local object name in links and cursors. */
export const LOCAL_CONTACT_OBJECT = 'contact';

/** An instant before any record: the modification time of a side that holds nothing yet. */
export const EPOCH = new Date(0).toISOString();

/** The run's tuning, defaults filled in by the runner. */
export interface SyncRunTuning {
  localPageSize: number;
  localOverlapMs: number;
  readPageSize?: number;
  openInstantMs: number;
}

/**
 * Everything one run's passes share, built once by the runner: the connection, the CRM gateway, the journal, the
 * stores and the policies. Each pass receives it when it is made, not on every call.
 */
export interface SyncRunScope {
  connection: SyncConnection;
  runId: string;
  signal?: AbortSignal;
  crm: CrmGateway;
  journal: RunJournal;
  links: LinkStore;
  cursors: CursorStore;
  locals: LocalContactStore;
  /** The CRM's short name in log lines ("SF"). */
  crmName: string;
  resolver: ConflictResolver;
  tuning: SyncRunTuning;
  now: () => Date;
  /** Bounds of a mapping formula's evaluation; absent: `DEFAULT_FORMULA_LIMITS`. */
  formulaLimits?: FormulaLimits;
  /** The field mapping of a CRM object the run syncs. */
  mapping(object: string): ObjectMapping;
  /**
   * Per CRM object, the e-mails of every record a complete first read (no cursor) of this run returned: the CRM held
   * no other e-mail then, so an unlinked contact whose e-mail is not here needs no look-up before its create.
   */
  completeReads?: Map<string, ReadonlySet<string>>;
}

/** Plans one record of the run: which fields go which way, given the last synced values. */
export function planForRun(
  scope: SyncRunScope,
  input: { mapping: ObjectMapping; base?: SyncedValues; local: RecordSide; crm?: RecordSide; at: string },
): RecordPlan {
  return planRecord({
    ...input,
    direction: scope.connection.settings.direction,
    resolver: scope.resolver,
    runId: scope.runId,
  });
}

/** A local contact as one side of a plan. */
export const localSide = (contact: LocalContact): RecordSide => ({
  values: contact.values,
  modifiedAt: contact.updatedAt.toISOString(),
});
