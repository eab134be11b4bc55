import { abortableSleep, DEFAULT_RETRY_POLICY, type RetryPolicy } from '@pm/connector-kit';
import { CrmError, type IntegrationPort } from '@pm/integration-port';
import type { SyncRunCounts } from '@pm/domain/model';
import { ConflictResolver } from './conflict-resolver';
import type { CompanyMappingSource } from './company-mapping';
import type { LocalCompanyStore } from './company-ports';
import { CompanySync } from './company-sync';
import { classifyRunFailure, type FailureKind } from './connection-health';
import { CrmGateway } from './crm-gateway';
import { DefaultFieldMappingSource, type FieldMappingSource, type ObjectMapping } from './field-mapping';
import { InboundPass } from './inbound-pass';
import type { FormulaLimits } from './mapping-formulas';
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
  /** Bounds of one mapping formula's evaluation (default `DEFAULT_FORMULA_LIMITS`). */
  formulaLimits?: FormulaLimits;
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
  /** PenguinMails companies; with it, a connection whose settings select a company object syncs companies too. */
  companies?: LocalCompanyStore;
  /** Company mappings; default: the connector's own (`defaultCompanyMappings`). */
  companyMappings?: CompanyMappingSource;
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
  protected readonly options: Required<Omit<ContactSyncRunnerOptions, 'readPageSize' | 'formulaLimits'>> &
    Pick<ContactSyncRunnerOptions, 'readPageSize' | 'formulaLimits'>;

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
      crm = await this.openGateway(request);
      const { scope, objects } = await this.scopeWithMappings(request, crm, journal);
      const direction = connection.settings.direction;
      const companies = await CompanySync.forRun(
        scope,
        this.deps.companies,
        objects,
        this.deps.companyMappings,
      );
      if (direction !== 'to_crm') {
        await companies?.inbound();
        const inbound = new InboundPass(scope);
        for (const object of objects) await inbound.sync(object);
      }
      if (direction !== 'from_crm') {
        await companies?.outboundBeforeContacts();
        if (objects.length > 0) await new OutboundPass(scope).sync(objects);
        await companies?.associateContacts();
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
    mappings: ReadonlyMap<string, ObjectMapping>,
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
      formulaLimits: this.options.formulaLimits,
      mapping: (object) => {
        const mapping = mappings.get(object);
        if (!mapping) throw new Error(`No field mapping for ${connection.provider} ${object}`);
        return mapping;
      },
    };
  }

  /**
   * Opens the CRM gateway and builds the scope an engine run other than the scheduled sync works in (a reconcile,
   * an immediate push), with this runner's options and mappings, and the contact objects a sync would cover.
   */
  async openScope(
    request: ContactSyncRequest,
    journal: RunJournal,
  ): Promise<{ scope: SyncRunScope; objects: string[] }> {
    return this.scopeWithMappings(request, await this.openGateway(request), journal);
  }

  /** The gateway to the connection's CRM for one run, with this runner's options and the request's abort signal. */
  protected openGateway(request: ContactSyncRequest): Promise<CrmGateway> {
    return CrmGateway.open(
      this.deps.port,
      this.deps.sessions,
      request.connection.id,
      this.options,
      request.signal,
    );
  }

  /**
   * The run's scope with each object's mapping, read once as the run starts (a mapping saved meanwhile applies from
   * the next run), and the objects it syncs: those selected that have a mapping.
   */
  protected async scopeWithMappings(
    request: ContactSyncRequest,
    crm: CrmGateway,
    journal: RunJournal,
  ): Promise<{ scope: SyncRunScope; objects: string[] }> {
    const source = this.deps.mappings ?? new DefaultFieldMappingSource(this.deps.port);
    const mappings = new Map<string, ObjectMapping>();
    const scope = this.scope(request, crm, journal, mappings);
    for (const object of this.candidateObjects(scope)) {
      const mapping = await source.mappingFor(request.connection, object);
      if (mapping) mappings.set(object, mapping);
    }
    return { scope, objects: this.candidateObjects(scope).filter((object) => mappings.has(object)) };
  }

  /** The CRM contact objects the settings select; none selected: the first contact object. */
  private candidateObjects(scope: SyncRunScope): string[] {
    const contactObjects = scope.crm.capabilities.objects
      .filter((object) => object.role === 'contact')
      .map((object) => object.name);
    const selected = scope.connection.settings.objects;
    const wanted =
      selected.length === 0 ? contactObjects.slice(0, 1) : selected.filter((o) => contactObjects.includes(o));
    return wanted;
  }
}
