import { abortableSleep, DEFAULT_RETRY_POLICY, type RetryPolicy } from '@pm/connector-kit';
import { CrmError, type IntegrationPort } from '@pm/integration-port';
import type { SyncRunCounts } from '@pm/domain/model';
import { ConflictResolver } from './conflict-resolver';
import { classifyRunFailure, type FailureKind } from './connection-health';
import { CrmGateway } from './crm-gateway';
import { DefaultFieldMappingSource, type FieldMappingSource } from './field-mapping';
import { InboundPass } from './inbound-pass';
import { OutboundPass } from './outbound-pass';
import type {
  CursorStore,
  LinkStore,
  LocalContactStore,
  RetryStore,
  SessionProvider,
  SyncConnection,
  SyncLogSink,
} from './ports';
import { RunJournal } from './run-journal';
import type { SyncRunScope, SyncRunTuning } from './sync-run-scope';

export { LOCAL_CONTACT_OBJECT } from './sync-run-scope';

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

/**
 * Runs one connection's contact sync through the `IntegrationPort`: inbound pages from the CRM (from a cursor per
 * object, saved only after the page is applied), then local changes outbound (from a local cursor), writing in
 * batches at the connector's limit. A record that fails is logged with the CRM's message and retried next run; a
 * rate limit or outage that outlasts the retries stops the run with nothing lost, since no cursor passes work that
 * was not applied. This class only orders the passes and reports the outcome; the passes, the e-mail matching,
 * deletions, the journal and the CRM gateway each live in their own file.
 */
export class ContactSyncRunner {
  protected readonly clock: () => Date;
  protected readonly options: Required<Omit<ContactSyncRunnerOptions, 'readPageSize'>> &
    Pick<ContactSyncRunnerOptions, 'readPageSize'>;

  constructor(protected readonly deps: ContactSyncRunnerDeps) {
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
    const journal = new RunJournal(connection, request.runId, this.deps.log, this.deps.retries);
    let crm: CrmGateway | undefined;
    try {
      crm = await CrmGateway.open(
        this.deps.port,
        this.deps.sessions,
        connection.id,
        this.options,
        request.signal,
      );
      const mappings = this.deps.mappings ?? new DefaultFieldMappingSource(this.deps.port);
      const scope = this.scope(request, crm, journal, mappings);
      const objects = this.objectsToSync(scope, mappings);
      const direction = connection.settings.direction;
      if (direction !== 'to_crm') {
        const inbound = new InboundPass(scope);
        for (const object of objects) await inbound.sync(object);
      }
      if (direction !== 'from_crm' && objects.length > 0) {
        await new OutboundPass(scope).sync(objects);
      }
      await journal.flush();
      return {
        status: journal.counts.total('errors') > 0 ? 'partial' : 'succeeded',
        counts: journal.counts.toJSON(),
        retriedCalls: crm.retriedCalls,
      };
    } catch (error) {
      if (crm) await journal.flush().catch(() => undefined);
      const failure = classifyRunFailure(error);
      return {
        status: failure === 'aborted' ? 'cancelled' : 'failed',
        counts: journal.counts.toJSON(),
        error,
        failure,
        retryAfterMs: error instanceof CrmError ? error.retryAfterMs : undefined,
        retriedCalls: crm?.retriedCalls ?? 0,
      };
    }
  }

  protected scope(
    request: ContactSyncRequest,
    crm: CrmGateway,
    journal: RunJournal,
    mappings: FieldMappingSource,
  ): SyncRunScope {
    const { connection } = request;
    const tuning: SyncRunTuning = {
      localPageSize: this.options.localPageSize,
      localOverlapMs: this.options.localOverlapMs,
      readPageSize: this.options.readPageSize,
      openInstantMs: this.options.openInstantMs,
    };
    return {
      connection,
      runId: request.runId,
      signal: request.signal,
      crm,
      journal,
      links: this.deps.links,
      cursors: this.deps.cursors,
      locals: this.deps.locals,
      crmName: crm.capabilities.shortName ?? crm.capabilities.displayName,
      resolver: new ConflictResolver(connection.settings.conflictPolicy),
      tuning,
      now: this.clock,
      mapping: (object) => {
        const mapping = mappings.mappingFor(connection.provider, object);
        if (!mapping) throw new Error(`No field mapping for ${connection.provider} ${object}`);
        return mapping;
      },
    };
  }

  /** The CRM contact objects the settings select that have a mapping; none selected: the first contact object. */
  protected objectsToSync(scope: SyncRunScope, mappings: FieldMappingSource): string[] {
    const contactObjects = scope.crm.capabilities.objects
      .filter((object) => object.role === 'contact')
      .map((object) => object.name);
    const selected = scope.connection.settings.objects;
    const wanted =
      selected.length === 0 ? contactObjects.slice(0, 1) : selected.filter((o) => contactObjects.includes(o));
    return wanted.filter((object) => mappings.mappingFor(scope.connection.provider, object) !== undefined);
  }
}
