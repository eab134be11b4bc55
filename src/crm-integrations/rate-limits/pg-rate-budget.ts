import { MikroORM } from '@mikro-orm/postgresql';
import type { AcquireOptions, RateBudget, RateGrant, RateLimitState, RatePriority } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type PortOperation, type RateLimitPolicy } from '@pm/integration-port';
import {
  assertGrantable,
  decide,
  largestGrant,
  observe,
  rateLimits,
  settle,
  windowsOf,
  type Decision,
  type Ledger,
  type RateLimits,
} from './rate-ledger';

export { PRIORITY_SHARE } from './rate-ledger';

/** Longest single sleep, so a pause another worker recorded or a freed window is noticed soon. */
const MAX_SLEEP_MS = 1_000;

/**
 * How long granted calls count as in flight when their call never settles (the worker died): they then leave the
 * window as if made at the end of it. A settled call's grants leave one window after it ended.
 */
const IN_FLIGHT_LEASE_MS = 60_000;

type Connection = ReturnType<MikroORM['em']['getConnection']>;

export interface PgRateBudgetOptions {
  whenDailyExhausted?: 'wait' | 'signal';
  /** Epoch ms; a test moves it instead of waiting. */
  now?: () => number;
  /** Waits `ms`, or rejects as soon as `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * One CRM account's rate budget in PostgreSQL, so every worker on every machine spends from the same count. A grant
 * is one short transaction on the account's row (`SELECT … FOR UPDATE`); waiting happens outside it. Each rolling
 * window is a sliding log of grant times (`window_grants`, one log per window), so no window ever sees more than its
 * limit, and a call is charged only to the limits that govern it (HubSpot's search limit, not its batch writes). The
 * CRM's own headers (`report`) correct the count, since other clients of the same account spend it too; headers that
 * say nothing new cost no transaction.
 */
export class PgRateBudget implements RateBudget {
  private readonly limits: RateLimits;
  /** The row as this process last saw it: `report` skips the database when the headers add nothing to it. */
  private lastSeen: Ledger | undefined;

  constructor(
    private readonly orm: MikroORM,
    /** The unit the CRM limits: `provider:accountId`. */
    readonly key: string,
    policies: readonly RateLimitPolicy[],
    private readonly options: PgRateBudgetOptions = {},
  ) {
    this.limits = rateLimits(policies);
  }

  largestGrant(priority: RatePriority, operation?: PortOperation): number {
    return largestGrant(this.limits, priority, operation);
  }

  async acquire(cost: number, priority: RatePriority, options: AcquireOptions = {}): Promise<RateGrant> {
    assertGrantable(this.limits, cost, priority, options.operation);
    const whenDailyExhausted = options.whenDailyExhausted ?? this.options.whenDailyExhausted ?? 'wait';
    for (;;) {
      throwIfAborted(options.signal);
      // A fraction keeps this grant's stamp apart from any other's, so settling finds exactly its calls.
      const stampAt = this.now() + IN_FLIGHT_LEASE_MS + Math.random();
      const decision = await this.tryTake(cost, priority, options.operation, stampAt);
      if (decision.granted) return { settle: () => this.settle(stampAt) };
      if (decision.dailyExhausted && whenDailyExhausted === 'signal') {
        throw new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'The daily API allocation is used up', {
          retryAfterMs: decision.waitMs,
        });
      }
      const ms = Math.max(5, Math.min(decision.waitMs, MAX_SLEEP_MS));
      await (this.options.sleep ?? abortableSleep)(ms, options.signal);
    }
  }

  async report(state: RateLimitState): Promise<void> {
    const nowMs = this.now();
    // What this process last saw is never more than the row holds, so headers that change nothing here change
    // nothing there either.
    if (this.lastSeen && observe(this.limits, this.lastSeen, state, nowMs) === null) return;
    await this.inTransaction(async (connection, context, ledger) => {
      const next = observe(this.limits, ledger, state, nowMs);
      if (next) await this.write(connection, context, next, nowMs);
      this.lastSeen = next ?? ledger;
    });
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** The call granted at `stampAt` has ended: its calls leave the windows one window length from now. */
  private async settle(stampAt: number): Promise<void> {
    if (windowsOf(this.limits, null).length === 0) return;
    const nowMs = this.now();
    await this.inTransaction(async (connection, context, ledger) => {
      const next = settle(this.limits, ledger, stampAt, nowMs);
      await this.write(connection, context, next, nowMs);
      this.lastSeen = next;
    });
  }

  private tryTake(
    cost: number,
    priority: RatePriority,
    operation: PortOperation | undefined,
    stampAt: number,
  ): Promise<Decision> {
    const nowMs = this.now();
    if (windowsOf(this.limits, null).length === 0 && !this.limits.daily)
      return this.tryTakeUnlimited(cost, priority, stampAt);
    return this.inTransaction(async (connection, context, ledger) => {
      const decision = decide(this.limits, ledger, { cost, priority, operation, stampAt }, nowMs);
      if (decision.granted) await this.write(connection, context, decision.ledger, nowMs);
      this.lastSeen = decision.granted ? decision.ledger : ledger;
      return decision;
    });
  }

  /**
   * No limit counts this call: only a pause the CRM asked for (a Retry-After another worker saw) can hold it, and a
   * grant changes nothing in the row, so the row is read without a lock, a transaction or a write (one query per
   * call instead of four). A row not made yet is made the usual way.
   */
  private async tryTakeUnlimited(cost: number, priority: RatePriority, stampAt: number): Promise<Decision> {
    const rows = await this.orm.em
      .fork()
      .getConnection()
      .execute<
        Record<string, unknown>[]
      >(`select window_grants, day_started_at, daily_used, daily_limit, paused_until from rate_budgets where key = ?`, [this.key]);
    if (rows.length === 0) {
      return this.inTransaction(async (_connection, _context, ledger) => {
        this.lastSeen = ledger;
        return decide(this.limits, ledger, { cost, priority, stampAt }, this.now());
      });
    }
    const ledger = toLedger(rows[0]);
    this.lastSeen = ledger;
    return decide(this.limits, ledger, { cost, priority, stampAt }, this.now());
  }

  private inTransaction<T>(
    work: (connection: Connection, context: unknown, ledger: Ledger) => Promise<T>,
  ): Promise<T> {
    return this.orm.em.fork().transactional(async (em) => {
      const connection = em.getConnection();
      const context = em.getTransactionContext();
      const select = () =>
        connection.execute<Record<string, unknown>[]>(
          `select window_grants, day_started_at, daily_used, daily_limit, paused_until from rate_budgets where key = ? for update`,
          [this.key],
          'all',
          context,
        );
      let rows = await select();
      if (rows.length === 0) {
        await connection.execute(
          `insert into rate_budgets (key, updated_at) values (?, now()) on conflict (key) do nothing`,
          [this.key],
          'run',
          context,
        );
        rows = await select();
      }
      return work(connection, context, toLedger(rows[0]));
    });
  }

  private async write(
    connection: Connection,
    context: unknown,
    ledger: Ledger,
    nowMs: number,
  ): Promise<void> {
    // window_limit and window_ms show the first window, for people reading the table; daily_limit the allocation in
    // force (the one the CRM reported, else the declared one), which the spread's pace is sized from.
    const first = this.limits.windows[0];
    await connection.execute(
      `update rate_budgets set window_limit = ?, window_ms = ?, window_grants = ?::jsonb, daily_limit = ?,
         day_started_at = ?, daily_used = ?, paused_until = ?, updated_at = ? where key = ?`,
      [
        first?.limit ?? null,
        first?.windowMs ?? null,
        JSON.stringify(ledger.grants),
        ledger.dailyLimit ?? this.limits.daily?.limit ?? null,
        ledger.dayStartedAt === null ? null : new Date(ledger.dayStartedAt),
        ledger.dailyUsed,
        ledger.pausedUntil === null ? null : new Date(ledger.pausedUntil),
        new Date(nowMs),
        this.key,
      ],
      'run',
      context,
    );
  }
}

/**
 * Raw rows come back with timestamps as text (MikroORM's pg type parsers) and jsonb possibly as text. A log kept
 * before windows had their own logs (a bare array) is dropped: it covered at most one window's length.
 */
function toLedger(raw: Record<string, unknown>): Ledger {
  const asMs = (value: unknown) => (value == null ? null : new Date(value as string).getTime());
  const stored: unknown =
    typeof raw.window_grants === 'string' ? JSON.parse(raw.window_grants) : raw.window_grants;
  const grants: Record<string, number[]> = {};
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
    for (const [id, times] of Object.entries(stored as Record<string, unknown>)) {
      if (Array.isArray(times)) grants[id] = times.map(Number);
    }
  }
  return {
    grants,
    dayStartedAt: asMs(raw.day_started_at),
    dailyUsed: Number(raw.daily_used),
    dailyLimit: raw.daily_limit == null ? null : Number(raw.daily_limit),
    pausedUntil: asMs(raw.paused_until),
  };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): CrmError {
  return new CrmError(CrmErrorCode.ABORTED, 'Waiting for the rate budget was aborted', {
    cause: signal.reason,
  });
}
