import type { CrmRecord, CrmSession, SyncCursor } from '@pm/integration-port';
import type {
  ConnectionHealth,
  ConnectionSettings,
  SyncCounts,
  SyncLogAction,
  SyncRunCounts,
} from '@pm/domain/model';
import type { LocalContactField, LocalValues, StandardContactField } from './field-mapping';
import type { SyncedValues } from './record-planner';

/**
 * What the engine needs from the rest of the product, as interfaces. src/crm-integrations/sync implements them
 * with MikroORM; the engine's own tests use in-memory fakes. Nothing here knows a CRM.
 */

export interface SyncConnection {
  id: string;
  tenantId: string;
  provider: string;
  settings: ConnectionSettings;
  health: ConnectionHealth;
}

/** Hands out a usable session for a connection; the token vault implements it (refreshing under its lock). */
export interface SessionProvider {
  getSession(connectionId: string): Promise<CrmSession>;
  /**
   * Called after a call failed with AUTH_EXPIRED: refresh the access token (unless another worker already replaced
   * `staleAccessToken`) and return the new session.
   */
  refreshSession(connectionId: string, staleAccessToken?: string): Promise<CrmSession>;
}

export interface LocalContact {
  id: string;
  email: string;
  /** Standard fields always; custom fields (`customFields.<name>`) as the contact holds them, in text form. */
  values: Record<StandardContactField, string | null> & Partial<Record<LocalContactField, string | null>>;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** A keyset position in local changes: (updatedAt, id). */
export interface LocalPosition {
  updatedAt: string;
  id?: string;
}

export interface LocalContactChange {
  /** The caller's key, echoed in the result. */
  key: string;
  /** Absent: create (or revive the contact with this e-mail). */
  contactId?: string;
  email: string;
  values: LocalValues;
}

export type LocalApplyResult =
  | { key: string; ok: true; contact: LocalContact; created: boolean }
  | { key: string; ok: false; message: string };

/** Which connection's CRM a local change came from: the store records it in the contact change feed. */
export interface LocalChangeOrigin {
  connectionId: string;
  provider: string;
}

/** The PenguinMails side; writes go through the same contacts service the HTTP API uses. */
export interface LocalContactStore {
  /** Contacts changed after `after` (deleted ones included), oldest first then by id. */
  changedSince(tenantId: string, after: LocalPosition | null, limit: number): Promise<LocalContact[]>;
  /** Deleted ones included. */
  findByIds(tenantId: string, ids: string[]): Promise<LocalContact[]>;
  /** By normalised e-mail; deleted ones included. */
  findByEmails(tenantId: string, emails: string[]): Promise<LocalContact[]>;
  /** By a custom field's value (`name` of `customFields.<name>`), compared as trimmed text; deleted ones included. */
  findByCustomField(tenantId: string, name: string, values: string[]): Promise<LocalContact[]>;
  /** One result per change, in order; one failing change never stops the others. */
  apply(
    tenantId: string,
    changes: LocalContactChange[],
    origin?: LocalChangeOrigin,
  ): Promise<LocalApplyResult[]>;
  markDeleted(tenantId: string, contactId: string, origin?: LocalChangeOrigin): Promise<void>;
}

export interface LinkSnapshot {
  id?: string;
  localObject: string;
  localId: string;
  crmObject: string;
  crmId: string;
  synced: SyncedValues;
  localUpdatedAt: Date | null;
  crmModifiedAt: Date | null;
  lastSyncedAt: Date | null;
}

export interface LinkStore {
  /** Active (not unlinked) links of these CRM records. */
  findByCrmIds(connectionId: string, crmObject: string, crmIds: string[]): Promise<LinkSnapshot[]>;
  /** Active links of these local records (contacts unless `localObject` says otherwise), to any CRM object. */
  findByLocalIds(connectionId: string, localIds: string[], localObject?: string): Promise<LinkSnapshot[]>;
  /**
   * Of these local records, those whose CRM record was deleted (unlinked for that reason, no active link): the
   * engine must not create them in the CRM again.
   */
  findDeletedInCrmLocalIds(connectionId: string, localIds: string[], localObject?: string): Promise<string[]>;
  /** Creates or updates by (connection, crmObject, crmId). */
  save(connectionId: string, links: LinkSnapshot[]): Promise<void>;
  unlink(
    connectionId: string,
    crmObject: string,
    crmId: string,
    reason: UnlinkReason,
    at: Date,
  ): Promise<void>;
}

/** Why a link ended: the side on which the record was deleted. */
export type UnlinkReason = 'deleted_in_crm' | 'deleted_in_penguinmails';

export type CursorDirection = 'from_crm' | 'to_crm';

export interface CursorState {
  value: SyncCursor | null;
  initialSyncCompletedAt: Date | null;
}

export interface CursorStore {
  load(connectionId: string, object: string, direction: CursorDirection): Promise<CursorState>;
  save(
    connectionId: string,
    object: string,
    direction: CursorDirection,
    value: SyncCursor | null,
    options?: { initialSyncCompleted?: boolean },
  ): Promise<void>;
}

/** A record that failed and is tried again on the next run. */
export interface RetryItem {
  direction: CursorDirection;
  object: string;
  /** Local contact id (to_crm) or CRM record id (from_crm). */
  recordId: string;
  recordKey: string | null;
  error: string;
  /** For from_crm: the CRM record as read, applied again next run. */
  payload?: CrmRecord | null;
}

export interface StoredRetryItem extends RetryItem {
  attempts: number;
}

export interface RetryStore {
  list(connectionId: string, direction: CursorDirection): Promise<StoredRetryItem[]>;
  /** Adds the items or bumps their attempts. */
  record(connectionId: string, items: RetryItem[]): Promise<void>;
  clear(connectionId: string, direction: CursorDirection, object: string, recordIds: string[]): Promise<void>;
}

export interface SyncLogLine {
  direction: 'to_crm' | 'from_crm' | 'none';
  object: string;
  recordKey: string | null;
  action: SyncLogAction;
  message: string;
  details?: Record<string, unknown> | null;
}

export interface SyncLogSink {
  write(connection: SyncConnection, runId: string | null, lines: SyncLogLine[]): Promise<void>;
}

export type { SyncCounts, SyncRunCounts };
