import {
  abortableSleep,
  cursorAfter,
  DEFAULT_RETRY_POLICY,
  RepeatedPageTokenError,
  withRetry,
  type RetryPolicy,
} from '@pm/connector-kit';
import {
  CrmError,
  CrmErrorCode,
  type ChangePage,
  type ConnectorCapabilities,
  type CrmRecord,
  type CrmSession,
  type DeletedRecord,
  type DeleteResult,
  type IntegrationPort,
  type SyncCursor,
  type UpsertInput,
  type UpsertResult,
} from '@pm/integration-port';
import type { SyncRunCounts } from '@pm/domain/model';
import { classifyRunFailure, type FailureKind } from './connection-health';
import { conflictLogLine, ConflictResolver } from './conflict-resolver';
import {
  associatedIdsToRead,
  associatedValuesOf,
  crmFieldsToRead,
  crmRecordEmail,
  decodeCrmRecord,
  DefaultFieldMappingSource,
  encodeForCrm,
  type AssociatedRecords,
  type FieldMappingSource,
  type LocalValues,
  type ObjectMapping,
} from './field-mapping';
import type {
  CursorStore,
  LinkSnapshot,
  LinkStore,
  LocalContact,
  LocalContactChange,
  LocalContactStore,
  LocalPosition,
  RetryItem,
  RetryStore,
  SessionProvider,
  SyncConnection,
  SyncLogLine,
  SyncLogSink,
} from './ports';
import { hasFields, planRecord, type RecordPlan, type SyncedValues } from './record-planner';
import { SyncCountsBuilder } from './sync-counts';
import { crmShortName, syncedFromCrm, syncedToCrm } from './sync-log-messages';

/** The local object name in links and cursors. */
export const LOCAL_CONTACT_OBJECT = 'contact';

export interface ContactSyncRunnerOptions {
  /** Local contacts read per outbound page. */
  localPageSize?: number;
  /**
   * How far before the saved local cursor an outbound read restarts: a contact saved by a transaction that began
   * before the cursor's instant but committed after the last read is still picked up. Re-read contacts are
   * compared three ways and cost no CRM call.
   */
  localOverlapMs?: number;
  /** Records per CRM read page; default the connector's maximum. */
  readPageSize?: number;
  retryPolicy?: RetryPolicy;
  /** Injectable so tests do not wait out backoffs. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Largest number of emails in one findByEmail call. */
  findByEmailChunk?: number;
  /**
   * A CRM instant this recent (relative to the read) may still gain records: many CRMs stamp whole seconds, so a
   * record edited in the same second after the read would sort before the cursor's (instant, id) and be skipped.
   * Until an instant is this far in the past, the saved cursor leaves out its id, and the next read takes the
   * whole instant again (re-read records compare equal and cost no write).
   */
  openInstantMs?: number;
}

export interface ContactSyncRunnerDeps {
  port: IntegrationPort;
  sessions: SessionProvider;
  links: LinkStore;
  cursors: CursorStore;
  locals: LocalContactStore;
  retries: RetryStore;
  log: SyncLogSink;
  mappings?: FieldMappingSource;
  clock?: () => Date;
  options?: ContactSyncRunnerOptions;
}

export interface ContactSyncRequest {
  connection: SyncConnection;
  runId: string;
  /** Stops the run between pages: the page in flight is finished and its cursor saved first. */
  signal?: AbortSignal;
}

export type RunStatus = 'succeeded' | 'partial' | 'failed' | 'cancelled';

export interface ContactSyncOutcome {
  status: RunStatus;
  counts: SyncRunCounts;
  /** Set when the run stopped early. */
  error?: unknown;
  failure?: FailureKind;
  /** When the CRM said to come back (rate limit beyond the in-process wait, quota refill). */
  retryAfterMs?: number;
  /** Calls retried inside the run (rate limits, outages) that then succeeded or gave up. */
  retriedCalls: number;
}

interface RunContext {
  connection: SyncConnection;
  runId: string;
  signal?: AbortSignal;
  session: CrmSession;
  capabilities: ConnectorCapabilities;
  crmName: string;
  resolver: ConflictResolver;
  counts: SyncCountsBuilder;
  pendingLog: SyncLogLine[];
  /** Records on the retry list at the start of the run ("direction|object|recordId"), cleared once they succeed. */
  pendingRetries: Set<string>;
  retriedCalls: number;
  now: () => Date;
}

/** A CRM record matched to a local contact, with what to do about it. */
interface InboundItem {
  record: CrmRecord;
  email: string;
  link?: LinkSnapshot;
  local?: LocalContact;
  plan: RecordPlan;
  failed?: boolean;
}

/** A local contact deleted in PenguinMails, with one of its active links. */
interface LocalDeletion {
  contact: LocalContact;
  link: LinkSnapshot;
}

interface OutboundItem {
  contact: LocalContact;
  object: string;
  mapping: ObjectMapping;
  link?: LinkSnapshot;
  /** The CRM record matched by e-mail for a first link. */
  matched?: CrmRecord;
  plan: RecordPlan;
  failed?: boolean;
}

const EPOCH = new Date(0).toISOString();

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

/**
 * Pages of one change read, asking for the next page while the caller applies the current one, so the CRM call
 * and the database work overlap; at most two pages are held. A stop request lets the page in hand finish (the
 * caller saves its cursor) and fetches no further.
 */
export async function* readAhead(
  fetchPage: (pageToken: string | undefined) => Promise<ChangePage>,
  signal?: AbortSignal,
): AsyncGenerator<ChangePage, void, undefined> {
  const followed = new Set<string>();
  const stopIfAsked = (): void => {
    if (signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'The run was stopped between pages', { cause: signal.reason });
    }
  };
  stopIfAsked();
  let pending: Promise<ChangePage> | undefined = fetchPage(undefined);
  for (let pageNumber = 1; pending; pageNumber++) {
    const page: ChangePage = await pending;
    pending = undefined;
    const next = page.nextPageToken;
    if (next !== undefined && next !== '') {
      if (followed.has(next)) throw new RepeatedPageTokenError(next, pageNumber);
      followed.add(next);
      if (!signal?.aborted) {
        pending = fetchPage(next);
        // Awaited on the next turn; this only keeps an abandoned read (the caller failed) from going unhandled.
        pending.catch(() => undefined);
      }
    }
    yield page;
    stopIfAsked();
  }
}

/**
 * Runs one connection's contact sync through the `IntegrationPort`: inbound pages from the CRM (from a cursor per
 * object, saved only after the page is applied), then local changes outbound (from a local cursor), writing in
 * batches at the connector's limit. A record that fails is logged with the CRM's message and retried next run; a
 * rate limit or outage that outlasts the retries stops the run with nothing lost, since no cursor passes work that
 * was not applied.
 */
export class ContactSyncRunner {
  private readonly mappings: FieldMappingSource;
  private readonly clock: () => Date;
  private readonly options: Required<Omit<ContactSyncRunnerOptions, 'readPageSize'>> &
    Pick<ContactSyncRunnerOptions, 'readPageSize'>;

  constructor(private readonly deps: ContactSyncRunnerDeps) {
    this.mappings = deps.mappings ?? new DefaultFieldMappingSource();
    this.clock = deps.clock ?? (() => new Date());
    this.options = {
      localPageSize: 500,
      localOverlapMs: 5_000,
      retryPolicy: DEFAULT_RETRY_POLICY,
      sleep: abortableSleep,
      findByEmailChunk: 100,
      openInstantMs: 60_000,
      ...deps.options,
    };
  }

  async run(request: ContactSyncRequest): Promise<ContactSyncOutcome> {
    const { connection } = request;
    const counts = new SyncCountsBuilder();
    let ctx: RunContext | undefined;
    try {
      const capabilities = this.deps.port.capabilities();
      ctx = {
        connection,
        runId: request.runId,
        signal: request.signal,
        session: await this.deps.sessions.getSession(connection.id),
        capabilities,
        crmName: crmShortName(connection.provider, capabilities.displayName),
        resolver: new ConflictResolver(connection.settings.conflictPolicy),
        counts,
        pendingLog: [],
        pendingRetries: new Set(),
        retriedCalls: 0,
        now: this.clock,
      };
      const objects = this.objectsToSync(ctx);
      const direction = connection.settings.direction;
      if (direction !== 'to_crm') {
        for (const object of objects) await this.inbound(ctx, object);
      }
      if (direction !== 'from_crm' && objects.length > 0) {
        await this.outbound(ctx, objects);
      }
      await this.flushLog(ctx);
      return {
        status: counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: counts.toJSON(),
        retriedCalls: ctx.retriedCalls,
      };
    } catch (error) {
      if (ctx) await this.flushLog(ctx).catch(() => undefined);
      const failure = classifyRunFailure(error);
      return {
        status: failure === 'aborted' ? 'cancelled' : 'failed',
        counts: counts.toJSON(),
        error,
        failure,
        retryAfterMs: error instanceof CrmError ? error.retryAfterMs : undefined,
        retriedCalls: ctx?.retriedCalls ?? 0,
      };
    }
  }

  /** The CRM contact objects the settings select that have a mapping; none selected: the first contact object. */
  private objectsToSync(ctx: RunContext): string[] {
    const contactObjects = ctx.capabilities.objects
      .filter((object) => object.role === 'contact')
      .map((object) => object.name);
    const selected = ctx.connection.settings.objects;
    const wanted =
      selected.length === 0 ? contactObjects.slice(0, 1) : selected.filter((o) => contactObjects.includes(o));
    return wanted.filter((object) => this.mappings.mappingFor(ctx.connection.provider, object) !== undefined);
  }

  private mapping(ctx: RunContext, object: string): ObjectMapping {
    const mapping = this.mappings.mappingFor(ctx.connection.provider, object);
    if (!mapping) throw new Error(`No field mapping for ${ctx.connection.provider} ${object}`);
    return mapping;
  }

  /** Every CRM call goes through the shared retry policy; AUTH_EXPIRED refreshes the session once. */
  private call<T>(ctx: RunContext, fn: (session: CrmSession) => Promise<T>): Promise<T> {
    return withRetry(() => fn(ctx.session), {
      policy: this.options.retryPolicy,
      sleep: this.options.sleep,
      signal: ctx.signal,
      refreshAuth: async () => {
        ctx.session = await this.deps.sessions.refreshSession(ctx.connection.id, ctx.session.accessToken);
      },
      onRetry: () => {
        ctx.retriedCalls++;
      },
    });
  }

  private throwIfAborted(ctx: RunContext): void {
    if (ctx.signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'The run was stopped', { cause: ctx.signal.reason });
    }
  }

  private log(ctx: RunContext, line: SyncLogLine): void {
    ctx.pendingLog.push(line);
  }

  private async flushLog(ctx: RunContext): Promise<void> {
    if (ctx.pendingLog.length === 0) return;
    const lines = ctx.pendingLog.splice(0);
    await this.deps.log.write(ctx.connection, ctx.runId, lines);
  }

  // ---- Inbound: CRM → PenguinMails ----------------------------------------------------------------------------

  private async inbound(ctx: RunContext, object: string): Promise<void> {
    const { connection } = ctx;
    const mapping = this.mapping(ctx, object);
    const retryItems = (await this.deps.retries.list(connection.id, 'from_crm')).filter(
      (item) => item.object === object && item.payload,
    );
    for (const item of retryItems) ctx.pendingRetries.add(`from_crm|${object}|${item.recordId}`);
    if (retryItems.length > 0) {
      await this.applyInboundPage(ctx, object, mapping, {
        records: retryItems.map((item) => item.payload as CrmRecord),
        deleted: [],
      });
      await this.flushLog(ctx);
    }
    const state = await this.deps.cursors.load(connection.id, object, 'from_crm');
    const since = state.value;
    let cursor = since;
    const fields = crmFieldsToRead(mapping);
    const pageSize = this.options.readPageSize ?? ctx.capabilities.maxReadPage;
    const readStartedAt = ctx.now().getTime();
    const pages = readAhead(
      (pageToken) =>
        this.call(ctx, (session) =>
          this.deps.port.readChanges(session, { object, since, fields, pageSize, pageToken }),
        ),
      ctx.signal,
    );
    for await (const page of pages) {
      await this.applyInboundPage(ctx, object, mapping, page);
      cursor = cursorAfter(
        [
          ...page.records,
          ...page.deleted.map((deleted) => ({ id: deleted.id, modifiedAt: deleted.deletedAt })),
        ],
        cursor,
      );
      // The page is applied: only now may the cursor pass it.
      await this.deps.cursors.save(
        connection.id,
        object,
        'from_crm',
        this.closedCursor(cursor, readStartedAt),
      );
      await this.flushLog(ctx);
    }
    if (!state.initialSyncCompletedAt) {
      await this.deps.cursors.save(
        connection.id,
        object,
        'from_crm',
        this.closedCursor(cursor, readStartedAt),
        {
          initialSyncCompleted: true,
        },
      );
    }
  }

  /** The cursor to save: without its id while its instant may still gain records (see `openInstantMs`). */
  private closedCursor(cursor: SyncCursor | null, readStartedAt: number): SyncCursor | null {
    if (cursor === null || cursor.lastId === undefined) return cursor;
    return Date.parse(cursor.modifiedAt) > readStartedAt - this.options.openInstantMs
      ? { modifiedAt: cursor.modifiedAt }
      : cursor;
  }

  private async applyInboundPage(
    ctx: RunContext,
    object: string,
    mapping: ObjectMapping,
    page: Pick<ChangePage, 'records' | 'deleted'>,
  ): Promise<void> {
    const { connection } = ctx;
    const counts = ctx.counts.for('from_crm', object);
    const records = page.records;
    const associated = await this.readAssociated(ctx, mapping, records);
    const links = await this.deps.links.findByCrmIds(
      connection.id,
      object,
      records.map((record) => record.id),
    );
    const linkByCrmId = new Map(links.map((link) => [link.crmId, link]));
    const unlinkedEmails = [
      ...new Set(
        records
          .filter((record) => !linkByCrmId.has(record.id))
          .map((record) => crmRecordEmail(mapping, record.fields))
          .filter((email): email is string => email !== null),
      ),
    ];
    const [linkedLocals, localsByEmailList] = await Promise.all([
      this.deps.locals.findByIds(
        connection.tenantId,
        links.map((link) => link.localId),
      ),
      this.deps.locals.findByEmails(connection.tenantId, unlinkedEmails),
    ]);
    const localById = new Map(linkedLocals.map((contact) => [contact.id, contact]));
    const localByEmail = new Map(localsByEmailList.map((contact) => [contact.email, contact]));
    // Which CRM record of this object each candidate local contact is already linked to.
    const claimed = new Map<string, string>();
    const candidateLinks = await this.deps.links.findByLocalIds(
      connection.id,
      localsByEmailList.map((contact) => contact.id),
    );
    for (const link of candidateLinks) if (link.crmObject === object) claimed.set(link.localId, link.crmId);
    const newByEmail = new Map<string, string>();

    const at = ctx.now().toISOString();
    const items: InboundItem[] = [];
    for (const record of records) {
      const email = crmRecordEmail(mapping, record.fields);
      const crm = { values: this.decode(mapping, record, associated), modifiedAt: record.modifiedAt };
      const link = linkByCrmId.get(record.id);
      let local: LocalContact | undefined;
      if (link) {
        local = localById.get(link.localId);
        if (!local || local.deletedAt) {
          // Deleted in PenguinMails: the outbound pass unlinks it; nothing flows back into a deleted contact.
          counts.skipped++;
          continue;
        }
      } else {
        if (email === null) {
          counts.skipped++;
          this.log(ctx, {
            direction: 'from_crm',
            object,
            recordKey: record.id,
            action: 'skipped',
            message: `Contact skipped: ${object} ${record.id} in ${ctx.crmName} has no e-mail`,
          });
          continue;
        }
        local = localByEmail.get(email);
        const otherRecord = local ? claimed.get(local.id) : newByEmail.get(email);
        if (otherRecord !== undefined && otherRecord !== record.id) {
          counts.skipped++;
          this.log(ctx, this.duplicateLine(ctx, 'from_crm', object, email, [otherRecord, record.id]));
          continue;
        }
        if (local?.deletedAt) {
          counts.skipped++;
          this.log(ctx, {
            direction: 'from_crm',
            object,
            recordKey: email,
            action: 'skipped',
            message: `Contact skipped: ${email} was deleted in PenguinMails`,
          });
          continue;
        }
        if (local) claimed.set(local.id, record.id);
        else newByEmail.set(email, record.id);
      }
      const plan = planRecord({
        mapping,
        direction: connection.settings.direction,
        resolver: ctx.resolver,
        base: link?.synced,
        local: local
          ? { values: local.values, modifiedAt: local.updatedAt.toISOString() }
          : { values: {}, modifiedAt: EPOCH },
        crm,
        at,
        runId: ctx.runId,
      });
      items.push({ record, email: local?.email ?? (email as string), link, local, plan });
    }

    // Local writes (through the contacts service), one result per contact.
    const localChanges: LocalContactChange[] = items
      .filter((item) => !item.local || hasFields(item.plan.toLocal))
      .map((item) => ({
        key: item.record.id,
        contactId: item.local?.id,
        email: item.email,
        values: item.plan.toLocal,
      }));
    const retryLater: RetryItem[] = [];
    if (localChanges.length > 0) {
      const results = await this.deps.locals.apply(connection.tenantId, localChanges);
      const byKey = new Map(items.map((item) => [item.record.id, item]));
      for (const result of results) {
        const item = byKey.get(result.key) as InboundItem;
        if (!result.ok) {
          item.failed = true;
          counts.errors++;
          retryLater.push({
            direction: 'from_crm',
            object,
            recordId: item.record.id,
            recordKey: item.email,
            error: result.message,
            payload: item.record,
          });
          this.log(ctx, {
            direction: 'from_crm',
            object,
            recordKey: item.email,
            action: 'error',
            message: `Contact not synced: ${item.email} ← ${ctx.crmName}: ${result.message}`,
          });
          continue;
        }
        const created = result.created || !item.local;
        item.local = result.contact;
        if (created) counts.created++;
        else counts.updated++;
        this.log(ctx, {
          direction: 'from_crm',
          object,
          recordKey: item.email,
          action: created ? 'created' : 'updated',
          message: syncedFromCrm(item.email, ctx.crmName),
          details: { crmId: item.record.id, fields: item.plan.toLocal },
        });
      }
    }

    // Local values that won (or changed only locally) go to the CRM now, in batches.
    const pushes = items.filter((item) => !item.failed && hasFields(item.plan.toCrm));
    const pushResults = await this.writeToCrm(
      ctx,
      object,
      pushes.map((item) => ({
        key: item.record.id,
        crmId: item.record.id,
        fields: encodeForCrm(mapping, item.plan.toCrm),
      })),
    );
    for (const item of pushes) {
      const result = pushResults.get(item.record.id);
      if (result?.ok) {
        ctx.counts.for('to_crm', object).updated++;
        this.log(ctx, {
          direction: 'to_crm',
          object,
          recordKey: item.email,
          action: 'updated',
          message: syncedToCrm(item.email, ctx.crmName),
          details: { crmId: item.record.id, fields: item.plan.toCrm },
        });
        continue;
      }
      this.revertPushedFields(item.plan, item.link?.synced);
      const message = result && !result.ok ? result.error.message : 'no result returned';
      ctx.counts.for('to_crm', object).errors++;
      retryLater.push({
        direction: 'to_crm',
        object,
        recordId: (item.local as LocalContact).id,
        recordKey: item.email,
        error: message,
      });
      this.log(ctx, this.pushErrorLine(ctx, object, item.email, result));
    }

    for (const item of items) {
      if (item.failed) continue;
      for (const resolution of item.plan.conflicts) {
        counts.conflicts++;
        this.log(ctx, {
          direction: 'from_crm',
          object,
          recordKey: item.email,
          action: 'conflict_resolved',
          ...conflictLogLine(resolution),
        });
      }
      const changed = Object.values(item.plan.changes).some((change) => change !== 'none');
      if (!changed && item.local && item.link) counts.skipped++;
    }

    // Links last: a crash before this line leaves links behind, and the re-read page converges without writes.
    const linksToSave: LinkSnapshot[] = [];
    for (const item of items) {
      if (item.failed || !item.local) continue;
      const changed = Object.values(item.plan.changes).some((change) => change !== 'none');
      if (item.link && !changed && item.link.crmModifiedAt?.toISOString() === item.record.modifiedAt)
        continue;
      const pushed = pushResults.get(item.record.id);
      linksToSave.push({
        id: item.link?.id,
        localObject: LOCAL_CONTACT_OBJECT,
        localId: item.local.id,
        crmObject: object,
        crmId: item.record.id,
        synced: item.plan.synced,
        localUpdatedAt: item.local.updatedAt,
        crmModifiedAt: new Date(pushed?.ok && pushed.modifiedAt ? pushed.modifiedAt : item.record.modifiedAt),
        lastSyncedAt: ctx.now(),
      });
    }
    if (linksToSave.length > 0) await this.deps.links.save(connection.id, linksToSave);

    await this.applyCrmDeletions(ctx, object, page.deleted);

    if (retryLater.length > 0) await this.deps.retries.record(connection.id, retryLater);
    const succeeded = items.filter((item) => !item.failed).map((item) => item.record.id);
    await this.clearRetried(ctx, 'from_crm', object, succeeded);
  }

  private async applyCrmDeletions(ctx: RunContext, object: string, deleted: DeletedRecord[]): Promise<void> {
    if (deleted.length === 0) return;
    const { connection } = ctx;
    const links = await this.deps.links.findByCrmIds(
      connection.id,
      object,
      deleted.map((record) => record.id),
    );
    if (links.length === 0) return;
    const locals = new Map(
      (
        await this.deps.locals.findByIds(
          connection.tenantId,
          links.map((link) => link.localId),
        )
      ).map((contact) => [contact.id, contact]),
    );
    const counts = ctx.counts.for('from_crm', object);
    const propagate = connection.settings.propagateDeletes && connection.settings.direction !== 'to_crm';
    for (const link of links) {
      const key = locals.get(link.localId)?.email ?? link.crmId;
      await this.deps.links.unlink(connection.id, object, link.crmId, 'deleted_in_crm', ctx.now());
      counts.deleted++;
      if (propagate && locals.get(link.localId) && !locals.get(link.localId)?.deletedAt) {
        await this.deps.locals.markDeleted(connection.tenantId, link.localId);
      }
      this.log(ctx, {
        direction: 'from_crm',
        object,
        recordKey: key,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Contact deleted: ${key} ← ${ctx.crmName}`
          : `Contact unlinked: ${key} was deleted in ${ctx.crmName}; kept in PenguinMails`,
        details: { crmId: link.crmId },
      });
    }
  }

  // ---- Outbound: PenguinMails → CRM ---------------------------------------------------------------------------

  private async outbound(ctx: RunContext, objects: string[]): Promise<void> {
    const { connection } = ctx;
    const retryItems = await this.deps.retries.list(connection.id, 'to_crm');
    for (const item of retryItems) ctx.pendingRetries.add(`to_crm|${item.object}|${item.recordId}`);
    if (retryItems.length > 0) {
      const ids = [...new Set(retryItems.map((item) => item.recordId))];
      const contacts = await this.deps.locals.findByIds(connection.tenantId, ids);
      await this.pushLocalContacts(ctx, objects, contacts);
      await this.flushLog(ctx);
    }
    const state = await this.deps.cursors.load(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm');
    let position: LocalPosition | null = state.value
      ? {
          updatedAt: new Date(Date.parse(state.value.modifiedAt) - this.options.localOverlapMs).toISOString(),
        }
      : null;
    for (;;) {
      this.throwIfAborted(ctx);
      const contacts = await this.deps.locals.changedSince(
        connection.tenantId,
        position,
        this.options.localPageSize,
      );
      if (contacts.length === 0) break;
      await this.pushLocalContacts(ctx, objects, contacts);
      const last = contacts[contacts.length - 1];
      position = { updatedAt: last.updatedAt.toISOString(), id: last.id };
      const saved = state.value;
      // Never move the cursor back (the overlap re-reads contacts before it).
      if (!saved || Date.parse(position.updatedAt) >= Date.parse(saved.modifiedAt)) {
        await this.deps.cursors.save(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm', {
          modifiedAt: position.updatedAt,
          lastId: position.id,
        });
      }
      await this.flushLog(ctx);
      if (contacts.length < this.options.localPageSize) break;
    }
    if (!state.initialSyncCompletedAt) {
      const latest = await this.deps.cursors.load(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm');
      await this.deps.cursors.save(connection.id, LOCAL_CONTACT_OBJECT, 'to_crm', latest.value, {
        initialSyncCompleted: true,
      });
    }
  }

  private async pushLocalContacts(
    ctx: RunContext,
    objects: string[],
    contacts: LocalContact[],
  ): Promise<void> {
    const { connection } = ctx;
    const allLinks = await this.deps.links.findByLocalIds(
      connection.id,
      contacts.map((contact) => contact.id),
    );
    const linksByLocal = new Map<string, LinkSnapshot[]>();
    for (const link of allLinks) {
      if (!objects.includes(link.crmObject)) continue;
      linksByLocal.set(link.localId, [...(linksByLocal.get(link.localId) ?? []), link]);
    }
    const at = ctx.now().toISOString();
    const items: OutboundItem[] = [];
    const unlinked: LocalContact[] = [];
    const deletions: LocalDeletion[] = [];

    for (const contact of contacts) {
      const links = linksByLocal.get(contact.id) ?? [];
      if (contact.deletedAt) {
        deletions.push(...links.map((link) => ({ contact, link })));
        continue;
      }
      if (links.length === 0) {
        unlinked.push(contact);
        continue;
      }
      for (const link of links) {
        const mapping = this.mapping(ctx, link.crmObject);
        const plan = this.plan(ctx, mapping, contact, link.synced, undefined, at);
        items.push({ contact, object: link.crmObject, mapping, link, plan });
      }
    }
    // A contact whose CRM record was deleted stays unlinked: creating it again would undo that deletion.
    const deletedInCrm = new Set(
      unlinked.length === 0
        ? []
        : await this.deps.links.findDeletedInCrmLocalIds(
            connection.id,
            unlinked.map((contact) => contact.id),
          ),
    );
    for (const contact of unlinked) {
      if (deletedInCrm.has(contact.id)) ctx.counts.for('to_crm', objects[0]).skipped++;
    }
    await this.applyLocalDeletions(ctx, deletions);
    items.push(
      ...(await this.matchUnlinked(
        ctx,
        objects,
        unlinked.filter((contact) => !deletedInCrm.has(contact.id)),
        at,
      )),
    );

    // Writes, per object, in batches at the connector's limit.
    const results = new Map<OutboundItem, UpsertResult | undefined>();
    for (const object of objects) {
      const writes = items.filter((item) => item.object === object && hasFields(item.plan.toCrm));
      const byKey = await this.writeToCrm(
        ctx,
        object,
        writes.map((item) => ({
          key: item.contact.id,
          crmId: item.link?.crmId ?? item.matched?.id,
          fields: encodeForCrm(item.mapping, item.plan.toCrm),
        })),
      );
      for (const item of writes) results.set(item, byKey.get(item.contact.id));
    }

    // Local values filled from a CRM record found at first link (bi-directional only).
    const localFills = items.filter((item) => hasFields(item.plan.toLocal));
    const fillResults =
      localFills.length === 0
        ? []
        : await this.deps.locals.apply(
            connection.tenantId,
            localFills.map((item) => ({
              key: `${item.object}:${item.contact.id}`,
              contactId: item.contact.id,
              email: item.contact.email,
              values: item.plan.toLocal,
            })),
          );
    const filled = new Map(fillResults.map((result) => [result.key, result]));

    const retryLater: RetryItem[] = [];
    const succeeded = new Set<string>();
    const linksToSave: LinkSnapshot[] = [];
    for (const item of items) {
      const counts = ctx.counts.for('to_crm', item.object);
      const wrote = hasFields(item.plan.toCrm);
      const result = results.get(item);
      if (wrote && !result?.ok) {
        counts.errors++;
        item.failed = true;
        retryLater.push({
          direction: 'to_crm',
          object: item.object,
          recordId: item.contact.id,
          recordKey: item.contact.email,
          error: result && !result.ok ? result.error.message : 'no result returned',
        });
        this.log(ctx, this.pushErrorLine(ctx, item.object, item.contact.email, result));
        if (!item.link) continue;
        this.revertPushedFields(item.plan, item.link.synced);
      }
      const fill = filled.get(`${item.object}:${item.contact.id}`);
      const localUpdatedAt = fill?.ok ? fill.contact.updatedAt : item.contact.updatedAt;
      if (fill && !fill.ok) this.revertPulledFields(item.plan, item.link?.synced);
      if (!item.failed) succeeded.add(item.contact.id);
      for (const resolution of item.plan.conflicts) {
        counts.conflicts++;
        this.log(ctx, {
          direction: 'to_crm',
          object: item.object,
          recordKey: item.contact.email,
          action: 'conflict_resolved',
          ...conflictLogLine(resolution),
        });
      }
      if (wrote && result?.ok) {
        if (result.created) counts.created++;
        else counts.updated++;
        this.log(ctx, {
          direction: 'to_crm',
          object: item.object,
          recordKey: item.contact.email,
          action: result.created ? 'created' : 'updated',
          message: syncedToCrm(item.contact.email, ctx.crmName),
          details: { crmId: result.crmId, fields: item.plan.toCrm },
        });
      } else if (!item.failed && item.link) {
        counts.skipped++;
      }
      const crmId = result?.ok ? result.crmId : (item.link?.crmId ?? item.matched?.id);
      if (crmId === undefined) continue;
      const changed = Object.values(item.plan.changes).some((change) => change !== 'none');
      if (item.link && !changed) continue;
      linksToSave.push({
        id: item.link?.id,
        localObject: LOCAL_CONTACT_OBJECT,
        localId: item.contact.id,
        crmObject: item.object,
        crmId,
        synced: item.plan.synced,
        localUpdatedAt,
        crmModifiedAt:
          result?.ok && result.modifiedAt
            ? new Date(result.modifiedAt)
            : (item.link?.crmModifiedAt ?? (item.matched ? new Date(item.matched.modifiedAt) : null)),
        lastSyncedAt: ctx.now(),
      });
    }
    if (linksToSave.length > 0) await this.deps.links.save(connection.id, linksToSave);
    if (retryLater.length > 0) await this.deps.retries.record(connection.id, retryLater);
    for (const object of objects) {
      const ids = items
        .filter((item) => item.object === object && succeeded.has(item.contact.id))
        .map((item) => item.contact.id);
      await this.clearRetried(ctx, 'to_crm', object, ids);
    }
  }

  /**
   * Unlinked local contacts: match each by e-mail in the CRM (one lookup call per chunk and object), link to the
   * one record found, report two or more as duplicates, and create the rest in the first selected object.
   */
  private async matchUnlinked(
    ctx: RunContext,
    objects: string[],
    contacts: LocalContact[],
    at: string,
  ): Promise<OutboundItem[]> {
    const items: OutboundItem[] = [];
    let remaining = contacts;
    for (const object of objects) {
      if (remaining.length === 0) break;
      const mapping = this.mapping(ctx, object);
      const found: CrmRecord[] = [];
      for (const emails of chunk(
        remaining.map((contact) => contact.email),
        this.options.findByEmailChunk,
      )) {
        found.push(
          ...(await this.call(ctx, (session) => this.deps.port.findByEmail(session, object, emails))),
        );
      }
      const byEmail = new Map<string, CrmRecord[]>();
      for (const record of found) {
        const email = crmRecordEmail(mapping, record.fields);
        if (email !== null) byEmail.set(email, [...(byEmail.get(email) ?? []), record]);
      }
      const associated = await this.readAssociated(ctx, mapping, found);
      const alreadyLinked = new Map(
        (
          await this.deps.links.findByCrmIds(
            ctx.connection.id,
            object,
            found.map((record) => record.id),
          )
        ).map((link) => [link.crmId, link]),
      );
      const next: LocalContact[] = [];
      for (const contact of remaining) {
        const matches = byEmail.get(contact.email) ?? [];
        if (matches.length === 0) {
          next.push(contact);
          continue;
        }
        if (matches.length > 1) {
          ctx.counts.for('to_crm', object).skipped++;
          this.log(
            ctx,
            this.duplicateLine(
              ctx,
              'to_crm',
              object,
              contact.email,
              matches.map((record) => record.id),
            ),
          );
          continue;
        }
        const [record] = matches;
        const owner = alreadyLinked.get(record.id);
        if (owner && owner.localId !== contact.id) {
          ctx.counts.for('to_crm', object).skipped++;
          this.log(ctx, {
            direction: 'to_crm',
            object,
            recordKey: contact.email,
            action: 'duplicate_found',
            message: `Duplicate: ${contact.email} matches ${object} ${record.id} in ${ctx.crmName}, which is linked to another contact; not merged`,
            details: { crmId: record.id, linkedLocalId: owner.localId },
          });
          continue;
        }
        const crm = { values: this.decode(mapping, record, associated), modifiedAt: record.modifiedAt };
        items.push({
          contact,
          object,
          mapping,
          matched: record,
          plan: this.plan(ctx, mapping, contact, undefined, crm, at),
        });
      }
      remaining = next;
    }
    const createIn = objects[0];
    const mapping = this.mapping(ctx, createIn);
    for (const contact of remaining) {
      items.push({
        contact,
        object: createIn,
        mapping,
        plan: this.plan(ctx, mapping, contact, undefined, { values: {}, modifiedAt: EPOCH }, at),
      });
    }
    return items;
  }

  private plan(
    ctx: RunContext,
    mapping: ObjectMapping,
    contact: LocalContact,
    base: SyncedValues | undefined,
    crm: { values: LocalValues; modifiedAt: string } | undefined,
    at: string,
  ): RecordPlan {
    return planRecord({
      mapping,
      direction: ctx.connection.settings.direction,
      resolver: ctx.resolver,
      base,
      local: { values: contact.values, modifiedAt: contact.updatedAt.toISOString() },
      crm,
      at,
      runId: ctx.runId,
    });
  }

  /**
   * Contacts deleted in PenguinMails. With `propagateDeletes`, their CRM records are deleted first (one
   * `deleteRecords` call per object and page; the connector batches at the CRM's limit) and each link ends only
   * once its record is gone: a record the CRM refuses to delete is logged with the CRM's message, stays linked, and
   * is tried again next run. Without it, the links end and the CRM records stay.
   */
  private async applyLocalDeletions(ctx: RunContext, deletions: LocalDeletion[]): Promise<void> {
    if (deletions.length === 0) return;
    const propagate = ctx.connection.settings.propagateDeletes;
    const objects = [...new Set(deletions.map((deletion) => deletion.link.crmObject))];
    const results = new Map<string, DeleteResult>();
    if (propagate) {
      for (const object of objects) {
        const ids = [
          ...new Set(
            deletions
              .filter((deletion) => deletion.link.crmObject === object)
              .map((deletion) => deletion.link.crmId),
          ),
        ];
        const answered = await this.call(ctx, (session) =>
          this.deps.port.deleteRecords(session, { object, ids }),
        );
        for (const result of answered) results.set(`${object}|${result.id}`, result);
      }
    }
    const retryLater: RetryItem[] = [];
    const deleted = new Map<string, string[]>(objects.map((object) => [object, []]));
    for (const { contact, link } of deletions) {
      const object = link.crmObject;
      const counts = ctx.counts.for('to_crm', object);
      if (propagate) {
        const result = results.get(`${object}|${link.crmId}`);
        if (!result?.ok) {
          const error = result && !result.ok ? result.error : undefined;
          const message = error?.message ?? 'no result returned';
          counts.errors++;
          retryLater.push({
            direction: 'to_crm',
            object,
            recordId: contact.id,
            recordKey: contact.email,
            error: message,
          });
          this.log(ctx, {
            direction: 'to_crm',
            object,
            recordKey: contact.email,
            action: 'error',
            message: `Contact not deleted: ${contact.email} → ${ctx.crmName}: ${message}`,
            details: { crmId: link.crmId, code: error?.code, crmCode: error?.crmCode },
          });
          continue;
        }
      }
      await this.deps.links.unlink(
        ctx.connection.id,
        object,
        link.crmId,
        'deleted_in_penguinmails',
        ctx.now(),
      );
      counts.deleted++;
      deleted.get(object)?.push(contact.id);
      this.log(ctx, {
        direction: 'to_crm',
        object,
        recordKey: contact.email,
        action: propagate ? 'deleted' : 'unlinked',
        message: propagate
          ? `Contact deleted: ${contact.email} → ${ctx.crmName}`
          : `Contact unlinked: ${contact.email} was deleted in PenguinMails; kept in ${ctx.crmName}`,
        details: { crmId: link.crmId, propagateDeletes: propagate },
      });
    }
    if (retryLater.length > 0) await this.deps.retries.record(ctx.connection.id, retryLater);
    for (const [object, ids] of deleted) await this.clearRetried(ctx, 'to_crm', object, ids);
  }

  /**
   * The associated records a page's mapped values come from (a HubSpot contact's company, a Pipedrive person's
   * organization): one `getRecords` call per associated object for the whole page, never one per record.
   */
  private async readAssociated(
    ctx: RunContext,
    mapping: ObjectMapping,
    records: readonly CrmRecord[],
  ): Promise<AssociatedRecords> {
    const associated = new Map<string, Map<string, CrmRecord>>();
    for (const read of associatedIdsToRead(mapping, records)) {
      const found = await this.call(ctx, (session) =>
        this.deps.port.getRecords(session, { object: read.object, ids: read.ids, fields: read.fields }),
      );
      associated.set(read.object, new Map(found.map((record) => [record.id, record])));
    }
    return associated;
  }

  private decode(mapping: ObjectMapping, record: CrmRecord, associated: AssociatedRecords): LocalValues {
    return decodeCrmRecord(mapping, record.fields, associatedValuesOf(mapping, record, associated));
  }

  // ---- Shared -------------------------------------------------------------------------------------------------

  /** Takes records that succeeded off the retry list; nothing to do (and no query) when none was on it. */
  private async clearRetried(
    ctx: RunContext,
    direction: 'to_crm' | 'from_crm',
    object: string,
    recordIds: string[],
  ): Promise<void> {
    const cleared = recordIds.filter((id) => ctx.pendingRetries.delete(`${direction}|${object}|${id}`));
    if (cleared.length > 0) await this.deps.retries.clear(ctx.connection.id, direction, object, cleared);
  }

  /**
   * Writes in batches of the connector's `maxWriteBatch`, up to `maxConcurrency` calls in flight. Results are kept
   * for every batch that answered even when another failed, and the first failure is rethrown after.
   */
  private async writeToCrm(
    ctx: RunContext,
    object: string,
    inputs: UpsertInput[],
  ): Promise<Map<string, UpsertResult>> {
    const results = new Map<string, UpsertResult>();
    if (inputs.length === 0) return results;
    const batches = chunk(inputs, Math.max(1, ctx.capabilities.maxWriteBatch));
    const concurrency = Math.max(1, Math.min(ctx.capabilities.maxConcurrency, 4));
    let failure: unknown;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < batches.length && failure === undefined) {
        const batch = batches[next++];
        try {
          const answered = await this.call(ctx, (session) =>
            this.deps.port.upsertBatch(session, { object, records: batch }),
          );
          for (const result of answered) results.set(result.key, result);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, lane));
    if (failure !== undefined) throw failure;
    return results;
  }

  /** A push failed: the base keeps the old values for the pushed fields, so they count as changed next run. */
  private revertPushedFields(plan: RecordPlan, base: SyncedValues | undefined): void {
    for (const field of Object.keys(plan.toCrm)) {
      if (base?.[field]) plan.synced[field] = base[field];
      else delete plan.synced[field];
    }
  }

  private revertPulledFields(plan: RecordPlan, base: SyncedValues | undefined): void {
    for (const field of Object.keys(plan.toLocal)) {
      if (base?.[field]) plan.synced[field] = base[field];
      else delete plan.synced[field];
    }
  }

  private duplicateLine(
    ctx: RunContext,
    direction: 'to_crm' | 'from_crm',
    object: string,
    email: string,
    crmIds: string[],
  ): SyncLogLine {
    return {
      direction,
      object,
      recordKey: email,
      action: 'duplicate_found',
      message: `Duplicate in ${ctx.crmName}: ${email} is on ${crmIds.length} ${object} records (${crmIds.join(', ')}); not merged`,
      details: { crmIds },
    };
  }

  private pushErrorLine(
    ctx: RunContext,
    object: string,
    email: string,
    result: UpsertResult | undefined,
  ): SyncLogLine {
    const error = result && !result.ok ? result.error : undefined;
    return {
      direction: 'to_crm',
      object,
      recordKey: email,
      action: 'error',
      message: `Contact not synced: ${email} → ${ctx.crmName}: ${error?.message ?? 'no result returned'}`,
      details: error ? { code: error.code, field: error.field, crmCode: error.crmCode } : null,
    };
  }
}
