/** Records: describing objects, reading changes, listing ids, writing, looking up and associating. */

// ---- Describe -------------------------------------------------------------------------------------------------

export type FieldType =
  | 'string'
  | 'text'
  | 'email'
  | 'phone'
  | 'url'
  | 'number'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'picklist'
  | 'multipicklist'
  | 'reference'
  | 'id'
  | 'other';

export interface FieldDescriptor {
  name: string;
  label: string;
  type: FieldType;
  /** The CRM's own type name, for display ('STRING', 'enumeration', 'varchar'). */
  crmType: string;
  required: boolean;
  readOnly: boolean;
  custom: boolean;
  options?: { value: string; label: string }[];
}

// ---- Reading changes ------------------------------------------------------------------------------------------

/**
 * The incremental cursor: (modification time, record id). Reading restarts at `modifiedAt` (with a small overlap)
 * and skips ids at that instant already seen, so thousands of records sharing one timestamp are never lost.
 */
export interface SyncCursor {
  /** ISO-8601 UTC. */
  modifiedAt: string;
  /** The greatest record id seen at exactly `modifiedAt`. */
  lastId?: string;
  /**
   * When the read that reached this cursor started (ISO-8601 UTC, the engine's clock). Every record modified more
   * than the CRM's index lag before it was visible to that read, so the next read need not look back past that.
   */
  readAt?: string;
  /**
   * Set by a mapping change (and kept on the cursors saved while that read goes on): the read compares every record
   * again, those unchanged since they last synced included. Engine-only: connectors never see it.
   */
  recompare?: true;
}

export interface CrmRecord {
  id: string;
  object: string;
  /** ISO-8601 UTC modification time as the CRM reports it. */
  modifiedAt: string;
  createdAt?: string;
  fields: Record<string, unknown>;
  /** Ids of associated records by object (HubSpot contact → companies, Pipedrive person → organization). */
  associations?: Record<string, string[]>;
}

export interface DeletedRecord {
  id: string;
  object: string;
  deletedAt: string;
}

export interface ReadChangesRequest {
  object: string;
  /** null: read everything (first sync). */
  since: SyncCursor | null;
  /** The opaque token from the previous page of the same read; absent for the first page. */
  pageToken?: string;
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
  pageSize?: number;
  /**
   * The associated objects whose ids the records should carry (`CrmRecord.associations`); absent: every one the
   * connector reads. A connector that reads associations with requests of their own (`readAssociations`) makes
   * only these, so a caller that reads them itself across pages (the sync's gateway) passes [].
   */
  associations?: string[];
}

/** One page of changes. The shared paginator loops pages; a connector returns exactly one. */
export interface ChangePage {
  records: CrmRecord[];
  deleted: DeletedRecord[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

// ---- Listing ids (reconcile) -----------------------------------------------------------------------------------

/**
 * One page of an id listing: the cheapest read a CRM has of which records exist and when each last changed, for
 * the reconcile that compares both sides. Live records only (deleted ones are absent), in no promised order.
 */
export interface ListIdsRequest {
  object: string;
  /** Only records modified at or after this instant (ISO-8601 UTC); absent: every live record. */
  modifiedSince?: string;
  /** The opaque token from the previous page of the same listing; absent for the first page. */
  pageToken?: string;
  pageSize?: number;
}

export interface RecordStamp {
  id: string;
  /** ISO-8601 UTC modification time as the CRM reports it (the same field `readChanges` reports). */
  modifiedAt: string;
}

export interface IdPage {
  ids: RecordStamp[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

// ---- Writing --------------------------------------------------------------------------------------------------

export interface UpsertInput {
  /** The caller's key for this record (the local id or e-mail); results are matched back by it. */
  key: string;
  /** Known CRM id: update. Absent: create, or update the record matched by e-mail where the CRM supports it. */
  crmId?: string;
  fields: Record<string, unknown>;
}

export interface UpsertBatchRequest {
  object: string;
  records: UpsertInput[];
  /**
   * Who makes sure a create never duplicates. Absent or false: the connector does (it looks each create up by its
   * matching key, or uses a CRM upsert keyed by it). True: the caller has just looked every create up by e-mail and
   * found none, so the connector creates without a look-up of its own — one CRM call less per batch. The caller sets
   * it only on a first attempt: a retry after an ambiguous failure (a lost response, a reset connection) sends false,
   * so a create the CRM applied the first time is found instead of made twice. Companies have no e-mail to look
   * a create up by: the caller looks them up with `findCompanies` before the first attempt and again before a
   * retry, and always sends true.
   */
  createsMatched?: boolean;
}

export type UpsertResult =
  | { key: string; ok: true; crmId: string; created: boolean; modifiedAt?: string }
  | { key: string; ok: false; error: RecordError };

export interface RecordError {
  code: import('../errors').CrmErrorCode;
  /** The CRM's own message, verbatim. */
  message: string;
  field?: string;
  crmCode?: string;
}

export interface GetRecordsRequest {
  object: string;
  ids: string[];
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
  /** As `ReadChangesRequest.associations`: the associated objects whose ids to fill in; absent: every one. */
  associations?: string[];
}

/** The ids of the `toObject` records each of `ids` is associated with (see `IntegrationPort.readAssociations`). */
export interface ReadAssociationsRequest {
  object: string;
  toObject: string;
  ids: string[];
}

export interface DeleteRecordsRequest {
  object: string;
  ids: string[];
}

/**
 * Records whose `field` holds one of `values`: the look-up of a matching key other than the connector's own e-mail
 * field (a custom external id, a second e-mail field).
 */
export interface FindByFieldRequest {
  object: string;
  /** The CRM's own field name (a custom field included). */
  field: string;
  /**
   * The wanted values as text. Compared exactly, except where the CRM itself compares the field without regard to
   * case (e-mail fields): there case is ignored, as the CRM does.
   */
  values: string[];
  /** Fields to return besides `field`; absent: the connector's default set for the object. */
  fields?: string[];
}

/**
 * Company records to look up before creating one, so a company is never made twice: those whose name equals one
 * of `names` (case-insensitively) or whose domain (a web address's host) is one of `domains`. The connector may
 * answer near matches (a name search); the caller keeps only exact ones.
 */
export interface FindCompaniesRequest {
  object: string;
  names: string[];
  /** Bare lower-cased domains; ignored where the CRM cannot search its company domain field. */
  domains: string[];
  /** Fields to return; absent: the connector's default set for the object. */
  fields?: string[];
}

/** Associates each record of `object` with one record of `toObject` (a contact with its company). */
export interface AssociateRecordsRequest {
  object: string;
  toObject: string;
  pairs: { id: string; toId: string }[];
}

/** One result per pair, in order, keyed by the associated record's id (`pairs[].id`). */
export type AssociateResult = { id: string; ok: true } | { id: string; ok: false; error: RecordError };

/** A record already gone counts as deleted (`ok: true`): deleting is idempotent. */
export type DeleteResult = { id: string; ok: true } | { id: string; ok: false; error: RecordError };
