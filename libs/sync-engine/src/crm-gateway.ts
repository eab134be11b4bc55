import {
  ConcurrencyGate,
  inBatches,
  mapWithConcurrency,
  paginate,
  withRetry,
  type RetryPolicy,
} from '@pm/connector-kit';
import type {
  AssociateRecordsRequest,
  AssociateResult,
  ChangePage,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  DeleteResult,
  FindCompaniesRequest,
  GetRecordsRequest,
  IdPage,
  IntegrationPort,
  ListIdsRequest,
  ReadChangesRequest,
  UpsertInput,
  UpsertResult,
} from '@pm/integration-port';
import { withAssociationsAcrossPages, type AssociationsAcrossPages } from './associations-across-pages';
import { associatedReads, type AssociatedRecords, type ObjectMapping } from './field-mapping';
import type { SessionProvider } from './ports';
import { AssociatedRecordReader } from './associated-record-reader';

export interface CrmGatewayOptions {
  retryPolicy: RetryPolicy;
  /** Injectable so tests do not wait out backoffs. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Largest number of e-mails in one `findByEmail` call. */
  findByEmailChunk: number;
}

export interface UpsertOptions {
  /**
   * Every create in `inputs` was just looked up by e-mail and not found (the e-mail matching did it), so the
   * connector need not look it up again. Sent only on a first attempt: a retry may follow a write the CRM applied
   * but whose answer was lost, and then the connector's own look-up finds the record instead of creating it twice.
   */
  createsMatched?: boolean;
}

/**
 * The one way a run reaches the CRM. Every call goes through the shared retry loop (AUTH_EXPIRED refreshes the
 * session once) and through one concurrency gate, so the connection never has more than the connector's
 * `maxConcurrency` calls in flight, whatever the run overlaps (a prefetched page, parallel write batches). Batching
 * at the connector's limits and the look-up of associated records live here too, so the passes above never loop over
 * pages or chunks.
 */
export class CrmGateway {
  readonly capabilities: ConnectorCapabilities;
  /** Calls retried inside the run (rate limits, outages) that then succeeded or gave up. */
  retriedCalls = 0;
  private readonly gate: ConcurrencyGate;
  /** Associated records, read across pages and kept for the run. */
  private readonly associated: AssociatedRecordReader;

  private constructor(
    private readonly port: IntegrationPort,
    private readonly sessions: SessionProvider,
    private readonly connectionId: string,
    private session: CrmSession,
    private readonly options: CrmGatewayOptions,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.capabilities = port.capabilities();
    this.gate = new ConcurrencyGate(Math.max(1, this.capabilities.maxConcurrency));
    this.associated = new AssociatedRecordReader(this.gate.limit, (request) => this.getRecords(request));
  }

  /** Opens the gateway for one run: one session for the whole run, refreshed only when the CRM refuses it. */
  static async open(
    port: IntegrationPort,
    sessions: SessionProvider,
    connectionId: string,
    options: CrmGatewayOptions,
    signal?: AbortSignal,
  ): Promise<CrmGateway> {
    const session = await sessions.getSession(connectionId);
    return new CrmGateway(port, sessions, connectionId, session, options, signal);
  }

  /** The most calls this connection may have in flight at once. */
  get maxInFlight(): number {
    return this.gate.limit;
  }

  /**
   * The pages of one change read, the next asked for while the caller applies the current one; a stop request
   * lets the page in hand finish and fetches no further. `associations`: the associated objects whose ids the
   * records need (absent: whatever the connector reads); where the connector reads them with requests of their own,
   * they are read here for several pages at once.
   */
  changePages(
    request: Omit<ReadChangesRequest, 'pageToken' | 'associations'>,
    associations?: readonly string[],
    options: Pick<AssociationsAcrossPages, 'needing'> & {
      /** The mapping whose associated values the records need: those records are read here, across pages. */
      mapping?: ObjectMapping;
    } = {},
  ): AsyncGenerator<ChangePage, void, undefined> {
    // A CRM that reads associations with requests of their own (HubSpot): read them here, for several pages at once.
    const acrossPages = associations !== undefined && this.readsAssociations;
    const pageSize = request.pageSize ?? this.capabilities.maxReadPage;
    const pages = paginate(
      (pageToken) =>
        this.call((session) =>
          this.port.readChanges(session, {
            ...request,
            pageToken,
            ...(associations === undefined ? {} : { associations: acrossPages ? [] : [...associations] }),
          }),
        ),
      { prefetch: true, signal: this.signal },
    );
    const port = this.port as Required<Pick<IntegrationPort, 'readAssociations'>>;
    const withIds =
      !acrossPages || associations.length === 0
        ? pages
        : withAssociationsAcrossPages(pages, {
            toObjects: associations,
            pageSize,
            maxIds: this.capabilities.maxAssociationRead as number,
            concurrency: this.gate.limit,
            needing: options.needing,
            read: (toObject, ids) =>
              this.call((session) =>
                port.readAssociations(session, { object: request.object, toObject, ids }),
              ),
          });
    const { mapping } = options;
    if (!mapping || associatedReads(mapping).length === 0) return withIds;
    return this.associated.acrossPages(withIds, mapping, pageSize);
  }

  /** Whether the connector reads associations on request (`readAssociations`, `maxAssociationRead`). */
  private get readsAssociations(): boolean {
    return this.port.readAssociations !== undefined && (this.capabilities.maxAssociationRead ?? 0) > 0;
  }

  /** The pages of one id listing (the reconcile's read), one after another; a stop request ends it between pages. */
  idPages(request: Omit<ListIdsRequest, 'pageToken'>): AsyncGenerator<IdPage, void, undefined> {
    return paginate(
      (pageToken) => this.call((session) => this.port.listIds(session, { ...request, pageToken })),
      {
        signal: this.signal,
      },
    );
  }

  /** The records of `object` holding these e-mails, in look-ups of at most `findByEmailChunk` e-mails. */
  async findByEmail(object: string, emails: readonly string[]): Promise<CrmRecord[]> {
    const answers = await mapWithConcurrency(
      inBatches(emails, this.options.findByEmailChunk),
      this.gate.limit,
      (batch) => this.call((session) => this.port.findByEmail(session, object, batch)),
    );
    return answers.flat();
  }

  /**
   * The records of `object` whose `field` holds one of `values` (a matching key other than the e-mail), in look-ups of
   * at most `findByEmailChunk` values.
   */
  async findByField(object: string, field: string, values: readonly string[]): Promise<CrmRecord[]> {
    const answers = await mapWithConcurrency(
      inBatches(values, this.options.findByEmailChunk),
      this.gate.limit,
      (batch) => this.call((session) => this.port.findByField(session, { object, field, values: batch })),
    );
    return answers.flat();
  }

  /**
   * Writes in batches of the connector's `maxWriteBatch`. Once a batch fails as a whole, no further batch starts;
   * those in flight finish and the failure is thrown. Results by the caller's key.
   */
  async upsert(
    object: string,
    inputs: readonly UpsertInput[],
    options: UpsertOptions = {},
  ): Promise<Map<string, UpsertResult>> {
    this.associated.forget(object, inputs);
    const answers = await mapWithConcurrency(
      inBatches(inputs, this.writeBatchSize(inputs.length)),
      this.gate.limit,
      (records) =>
        this.call((session, attempt) =>
          this.port.upsertBatch(session, {
            object,
            records,
            createsMatched: options.createsMatched === true && attempt === 1,
          }),
        ),
    );
    return new Map(answers.flat().map((result) => [result.key, result]));
  }

  /**
   * Records per upsert call: the connector's `maxWriteBatch`, except where each record is a request of its own
   * (Pipedrive), whose calls send their requests one after another: there `n` records are spread over every call the
   * gate lets run at once (200 creates: 5 calls of 40, not 2 of 100), which costs no extra request.
   */
  private writeBatchSize(n: number): number {
    const most = Math.max(1, this.capabilities.maxWriteBatch);
    const perRequest = this.capabilities.writeRecordsPerRequest ?? most;
    if (perRequest >= most) return most;
    return Math.min(most, Math.max(perRequest, Math.ceil(n / this.gate.limit)));
  }

  /** One `deleteRecords` call for `ids`; the connector batches at the CRM's limit. Results by record id. */
  async deleteRecords(object: string, ids: string[]): Promise<Map<string, DeleteResult>> {
    this.associated.forget(
      object,
      ids.map((crmId) => ({ crmId })),
    );
    const answered = await this.call((session) => this.port.deleteRecords(session, { object, ids }));
    return new Map(answered.map((result) => [result.id, result]));
  }

  /** Company records by name or domain (one port call; the connector batches inside it). */
  findCompanies(request: FindCompaniesRequest): Promise<CrmRecord[]> {
    return this.call((session) => this.port.findCompanies(session, request));
  }

  /** Associates records with their companies, in batches of the connector's `maxWriteBatch`. Results by id. */
  async associate(request: AssociateRecordsRequest): Promise<Map<string, AssociateResult>> {
    const answers = await mapWithConcurrency(
      inBatches(request.pairs, Math.max(1, this.capabilities.maxWriteBatch)),
      this.gate.limit,
      (pairs) => this.call((session) => this.port.associateRecords(session, { ...request, pairs })),
    );
    return new Map(answers.flat().map((result) => [result.id, result]));
  }

  /**
   * Company writes, which no CRM upserts by a key: the caller has just looked every create up, so a first attempt
   * creates directly. A retry may follow a create the CRM applied but whose answer was lost, so before it each
   * create is looked up again (`findCompanies`, with the same session and gate slot) and one that `rematch` picks
   * out of the answer becomes an update of that record (still reported as created: this run made it), so a retried
   * create never makes a second company.
   */
  async upsertCompanies(
    request: { object: string; fields?: string[] },
    inputs: readonly UpsertInput[],
    lookup: (creates: readonly UpsertInput[]) => { names: string[]; domains: string[] },
    rematch: (input: UpsertInput, found: readonly CrmRecord[]) => CrmRecord | undefined,
  ): Promise<Map<string, UpsertResult>> {
    this.associated.forget(request.object, inputs);
    const answers = await mapWithConcurrency(
      inBatches(inputs, Math.max(1, this.capabilities.maxWriteBatch)),
      this.gate.limit,
      (records) =>
        this.call(async (session, attempt) => {
          let batch = records;
          const creates = records.filter((input) => input.crmId === undefined);
          const rematched = new Set<string>();
          if (attempt > 1 && creates.length > 0) {
            const found = await this.port.findCompanies(session, {
              object: request.object,
              fields: request.fields,
              ...lookup(creates),
            });
            batch = records.map((input) => {
              const match = input.crmId === undefined ? rematch(input, found) : undefined;
              if (match === undefined) return input;
              rematched.add(input.key);
              return { ...input, crmId: match.id };
            });
          }
          const results = await this.port.upsertBatch(session, {
            object: request.object,
            records: batch,
            createsMatched: true,
          });
          return results.map((result) =>
            result.ok && rematched.has(result.key) ? { ...result, created: true } : result,
          );
        }),
    );
    return new Map(answers.flat().map((result) => [result.key, result]));
  }

  getRecords(request: GetRecordsRequest): Promise<CrmRecord[]> {
    return this.call((session) => this.port.getRecords(session, request));
  }

  /**
   * The associated records a page's mapped values come from (the company record a contact belongs to, say): one
   * `getRecords` call per associated object for the whole page, never one per record, and none for a record this run
   * has read already.
   */
  readAssociated(mapping: ObjectMapping, records: readonly CrmRecord[]): Promise<AssociatedRecords> {
    return this.associated.readFor(mapping, records);
  }

  /**
   * Records this run has just read and left as the CRM holds them (the company pass's, which runs before the
   * contacts): a contact page's company values then come from them, not from a second read.
   */
  rememberRead(object: string, records: readonly CrmRecord[]): void {
    this.associated.remember(object, records);
  }

  /** Every CRM call: retried by the shared policy, one slot of the gate per attempt (none held while waiting). */
  private call<T>(fn: (session: CrmSession, attempt: number) => Promise<T>): Promise<T> {
    return withRetry((attempt) => this.gate.run(() => fn(this.session, attempt)), {
      policy: this.options.retryPolicy,
      sleep: this.options.sleep,
      signal: this.signal,
      refreshAuth: async () => {
        this.session = await this.sessions.refreshSession(this.connectionId, this.session.accessToken);
      },
      onRetry: () => {
        this.retriedCalls++;
      },
    });
  }
}
