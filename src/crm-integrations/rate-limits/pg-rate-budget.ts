import { MikroORM } from '@mikro-orm/postgresql';
import {
  nextUtcMidnight,
  type AcquireOptions,
  type RateBudget,
  type RateLimitState,
  type RatePriority,
} from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type RateLimitPolicy } from '@pm/integration-port';

/**
 * Across processes there is no single queue to order waiters by priority, so each priority may spend only its
 * share of a window: background work leaves room for activity delivery, and both leave room for a user's
 * "Sync now" or a connect flow.
 */
export const PRIORITY_SHARE: Readonly<Record<RatePriority, number>> = {
  interactive: 1,
  activity: 0.9,
  background: 0.75,
};

/** Longest single sleep, so an aborted signal or a freed window is noticed soon. */
const MAX_SLEEP_MS = 1_000;

interface BudgetRow {
  window_grants: number[];
  day_started_at: Date | null;
  daily_used: number;
  paused_until: Date | null;
}

type Decision = { granted: true } | { granted: false; waitMs: number; dailyExhausted: boolean };

type Connection = ReturnType<MikroORM['em']['getConnection']>;

/**
 * One CRM account's rate budget in PostgreSQL, so every worker on every machine spends from the same count. A grant
 * is one short transaction on the account's row (`SELECT … FOR UPDATE`); waiting happens outside it. Rolling
 * windows are kept as a sliding log of grant times, so no window ever sees more than its limit. The CRM's own
 * headers (`report`) correct the count, since other clients of the same account spend it too.
 */
export class PgRateBudget implements RateBudget {
  private readonly window?: { limit: number; windowMs: number };
  private readonly daily?: { limit: number };

  constructor(
    private readonly orm: MikroORM,
    /** The unit the CRM limits: `provider:accountId`. */
    readonly key: string,
    policies: readonly RateLimitPolicy[],
    private readonly options: {
      whenDailyExhausted?: 'wait' | 'signal';
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ) {
    // Where a CRM has several windows, the strictest per millisecond governs.
    for (const policy of policies) {
      if (policy.kind === 'daily') this.daily = { limit: policy.limit };
      else if (!this.window || policy.limit / policy.windowMs < this.window.limit / this.window.windowMs) {
        this.window = { limit: policy.limit, windowMs: policy.windowMs };
      }
    }
  }

  async acquire(cost: number, priority: RatePriority, options: AcquireOptions = {}): Promise<void> {
    const whenDailyExhausted = options.whenDailyExhausted ?? this.options.whenDailyExhausted ?? 'wait';
    for (;;) {
      if (options.signal?.aborted)
        throw new CrmError(CrmErrorCode.ABORTED, 'Waiting for the rate budget was aborted');
      const decision = await this.tryTake(cost, priority);
      if (decision.granted) return;
      if (decision.dailyExhausted && whenDailyExhausted === 'signal') {
        throw new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'The daily API allocation is used up', {
          retryAfterMs: decision.waitMs,
        });
      }
      await (this.options.sleep ?? sleep)(Math.max(5, Math.min(decision.waitMs, MAX_SLEEP_MS)));
    }
  }

  async report(state: RateLimitState): Promise<void> {
    const nowMs = this.now();
    await this.inTransaction(nowMs, async (connection, context, row) => {
      let grants = this.liveGrants(row, nowMs);
      // The CRM counted more calls than we granted (another client of the account): fill the log up to its count.
      if (state.windowLimit !== undefined && state.windowRemaining !== undefined) {
        const counted = state.windowLimit - state.windowRemaining;
        if (counted > grants.length)
          grants = [...grants, ...Array<number>(counted - grants.length).fill(nowMs)];
      }
      const dailyUsed =
        state.dailyLimit !== undefined && state.dailyRemaining !== undefined
          ? Math.max(row.daily_used, state.dailyLimit - state.dailyRemaining)
          : row.daily_used;
      const pausedUntil =
        state.retryAfterMs !== undefined ? new Date(nowMs + state.retryAfterMs) : row.paused_until;
      await this.write(
        connection,
        context,
        { grants, dayStartedAt: row.day_started_at, dailyUsed, pausedUntil },
        nowMs,
      );
    });
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** One transaction: drop expired grants, roll the day, then take `cost` if this priority's share allows. */
  private tryTake(cost: number, priority: RatePriority): Promise<Decision> {
    const nowMs = this.now();
    return this.inTransaction(nowMs, async (connection, context, row): Promise<Decision> => {
      if (row.paused_until && row.paused_until.getTime() > nowMs) {
        return { granted: false, waitMs: row.paused_until.getTime() - nowMs, dailyExhausted: false };
      }
      const grants = this.liveGrants(row, nowMs);
      let dayStartedAt = row.day_started_at ?? startOfUtcDay(nowMs);
      let dailyUsed = row.daily_used;
      if (nowMs >= nextUtcMidnight(dayStartedAt.getTime())) {
        dayStartedAt = startOfUtcDay(nowMs);
        dailyUsed = 0;
      }
      if (this.daily && dailyUsed + cost > this.daily.limit) {
        return { granted: false, waitMs: nextUtcMidnight(nowMs) - nowMs, dailyExhausted: true };
      }
      if (this.window) {
        const allowed = Math.max(1, Math.floor(this.window.limit * PRIORITY_SHARE[priority]));
        if (grants.length + cost > allowed) {
          // Wait until enough of the oldest grants leave the window.
          const freeingGrant = grants[Math.min(grants.length - 1, grants.length + cost - allowed - 1)];
          return {
            granted: false,
            waitMs: freeingGrant + this.window.windowMs - nowMs + 1,
            dailyExhausted: false,
          };
        }
      }
      const granted = this.window ? [...grants, ...Array<number>(cost).fill(nowMs)] : [];
      await this.write(
        connection,
        context,
        { grants: granted, dayStartedAt, dailyUsed: dailyUsed + cost, pausedUntil: null },
        nowMs,
      );
      return { granted: true };
    });
  }

  private liveGrants(row: BudgetRow, nowMs: number): number[] {
    if (!this.window) return [];
    const since = nowMs - this.window.windowMs;
    return row.window_grants.filter((at) => at > since).sort((a, b) => a - b);
  }

  private inTransaction<T>(
    nowMs: number,
    work: (connection: Connection, context: unknown, row: BudgetRow) => Promise<T>,
  ): Promise<T> {
    return this.orm.em.fork().transactional(async (em) => {
      const connection = em.getConnection();
      const context = em.getTransactionContext();
      await connection.execute(
        `insert into rate_budgets (key, updated_at) values (?, ?) on conflict (key) do nothing`,
        [this.key, new Date(nowMs)],
        'run',
        context,
      );
      const rows = await connection.execute<BudgetRow[]>(
        `select window_grants, day_started_at, daily_used, paused_until from rate_budgets where key = ? for update`,
        [this.key],
        'all',
        context,
      );
      // Raw rows come back with timestamps as text (MikroORM's pg type parsers) and jsonb possibly as text.
      const raw = rows[0] as unknown as Record<string, unknown>;
      const asDate = (value: unknown) => (value == null ? null : new Date(value as string));
      const grants =
        typeof raw.window_grants === 'string' ? JSON.parse(raw.window_grants) : raw.window_grants;
      return work(connection, context, {
        window_grants: (grants as number[]).map(Number),
        day_started_at: asDate(raw.day_started_at),
        daily_used: Number(raw.daily_used),
        paused_until: asDate(raw.paused_until),
      });
    });
  }

  private async write(
    connection: Connection,
    context: unknown,
    state: { grants: number[]; dayStartedAt: Date | null; dailyUsed: number; pausedUntil: Date | null },
    nowMs: number,
  ): Promise<void> {
    await connection.execute(
      `update rate_budgets set window_limit = ?, window_ms = ?, window_grants = ?::jsonb, daily_limit = ?,
         day_started_at = ?, daily_used = ?, paused_until = ?, updated_at = ? where key = ?`,
      [
        this.window?.limit ?? null,
        this.window?.windowMs ?? null,
        JSON.stringify(state.grants),
        this.daily?.limit ?? null,
        state.dayStartedAt,
        state.dailyUsed,
        state.pausedUntil,
        new Date(nowMs),
        this.key,
      ],
      'run',
      context,
    );
  }
}

function startOfUtcDay(nowMs: number): Date {
  const date = new Date(nowMs);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
