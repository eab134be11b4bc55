import { CrmError, CrmErrorCode } from '@pm/integration-port';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** The first backoff ceiling; it doubles each attempt. */
  baseDelayMs: number;
  /** The largest backoff ceiling. */
  maxDelayMs: number;
  /**
   * The longest single wait accepted in-process. A Retry-After beyond it is not waited out by a worker: the decision
   * says "no retry" with the wait, so the job can be rescheduled instead of holding a worker.
   */
  maxWaitMs: number;
  /** A random source in [0, 1) for the jitter; injectable so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxWaitMs: 120_000,
});

export interface RetryDecision {
  retry: boolean;
  /** How long to wait before the next attempt (or, when not retrying, before the work may run again; 0: unknown). */
  waitMs: number;
  reason: string;
  /** AUTH_EXPIRED: the caller must refresh the access token before the retry. */
  refreshAuth: boolean;
  /** QUOTA_EXHAUSTED: not a failure of this work; pause the connection until the quota refills. */
  pause: boolean;
}

/** What happened in earlier attempts of the same call, which the error alone cannot tell. */
export interface RetryHistory {
  /** Token refreshes already done for this call. */
  authRefreshes: number;
}

const NEVER_RETRIED: ReadonlySet<CrmErrorCode> = new Set([
  CrmErrorCode.VALIDATION_FAILED,
  CrmErrorCode.NOT_FOUND,
  CrmErrorCode.DUPLICATE,
  CrmErrorCode.AUTH_REVOKED,
  CrmErrorCode.PERMISSION_DENIED,
  CrmErrorCode.INVALID_SIGNATURE,
  CrmErrorCode.ABORTED,
  CrmErrorCode.UNKNOWN,
]);

function noRetry(reason: string, waitMs = 0, pause = false): RetryDecision {
  return { retry: false, waitMs, reason, refreshAuth: false, pause };
}

/** Exponential backoff with full jitter: uniformly random in [0, min(maxDelay, base · 2^(attempt−1))). */
function backoffMs(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const random = policy.random ?? Math.random;
  return Math.min(policy.maxWaitMs, Math.floor(random() * ceiling));
}

/**
 * Decides, without side effects, whether a failed attempt is retried and after how long. `attempt` is the 1-based
 * number of the attempt that just failed.
 */
export function shouldRetry(
  error: unknown,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  history: RetryHistory = { authRefreshes: 0 },
): RetryDecision {
  if (!(error instanceof CrmError)) {
    // A connector maps every CRM failure to a CrmError; anything else is a bug, and retrying hides it.
    return noRetry(
      `not a CrmError (${error instanceof Error ? error.name : typeof error}): a bug, not retried`,
    );
  }
  const code = error.code;
  if (code === CrmErrorCode.QUOTA_EXHAUSTED) {
    return noRetry(
      'daily quota exhausted: pause the connection until it refills',
      error.retryAfterMs ?? 0,
      true,
    );
  }
  if (NEVER_RETRIED.has(code)) {
    return noRetry(`${code} is not retried: the same request would fail again`);
  }
  if (attempt >= policy.maxAttempts) {
    return noRetry(`${code} after ${attempt} attempts: maxAttempts (${policy.maxAttempts}) reached`);
  }
  switch (code) {
    case CrmErrorCode.AUTH_EXPIRED:
      if (history.authRefreshes > 0) {
        return noRetry('access token rejected again right after a refresh: not retried');
      }
      return {
        retry: true,
        waitMs: 0,
        reason: 'access token expired: refresh, then retry once',
        refreshAuth: true,
        pause: false,
      };
    case CrmErrorCode.RATE_LIMITED: {
      if (error.retryAfterMs !== undefined) {
        const waitMs = Math.max(0, error.retryAfterMs);
        if (waitMs > policy.maxWaitMs) {
          return noRetry(
            `rate limited: Retry-After ${waitMs} ms exceeds maxWaitMs ${policy.maxWaitMs}; reschedule`,
            waitMs,
          );
        }
        return {
          retry: true,
          waitMs,
          reason: `rate limited: waiting Retry-After ${waitMs} ms`,
          refreshAuth: false,
          pause: false,
        };
      }
      const waitMs = backoffMs(attempt, policy);
      return {
        retry: true,
        waitMs,
        reason: `rate limited without Retry-After: backoff ${waitMs} ms`,
        refreshAuth: false,
        pause: false,
      };
    }
    case CrmErrorCode.CRM_UNAVAILABLE:
    case CrmErrorCode.TIMEOUT: {
      const waitMs = backoffMs(attempt, policy);
      return {
        retry: true,
        waitMs,
        reason: `${code}: backoff ${waitMs} ms`,
        refreshAuth: false,
        pause: false,
      };
    }
    default:
      return noRetry(`${code} has no retry rule`);
  }
}

export interface RetryEvent {
  error: CrmError;
  /** The attempt that failed (1-based). */
  attempt: number;
  decision: RetryDecision;
}

export interface WithRetryOptions {
  policy?: RetryPolicy;
  /** Waits `ms`; rejects when `signal` aborts. Injectable so tests do not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each wait (log it, count it). */
  onRetry?: (event: RetryEvent) => void;
  /** Refreshes the access token; called before retrying an AUTH_EXPIRED failure. Without it, that is not retried. */
  refreshAuth?: () => Promise<void>;
  signal?: AbortSignal;
}

/** Waits `ms` milliseconds unless `signal` aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CrmError(CrmErrorCode.ABORTED, 'Aborted while waiting to retry', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CrmError(CrmErrorCode.ABORTED, 'Aborted while waiting to retry', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The one retry loop: runs `fn`, and on failure asks `shouldRetry` whether and when to try again. The error of the
 * last attempt is rethrown unchanged, so the caller sees the CRM's own code and message.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: WithRetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? abortableSleep;
  const history: RetryHistory = { authRefreshes: 0 };
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      throw new CrmError(CrmErrorCode.ABORTED, 'Aborted before the call', { cause: options.signal.reason });
    }
    try {
      return await fn(attempt);
    } catch (error) {
      const decision = shouldRetry(error, attempt, policy, history);
      if (!decision.retry || (decision.refreshAuth && options.refreshAuth === undefined)) {
        throw error;
      }
      options.onRetry?.({ error: error as CrmError, attempt, decision });
      if (decision.refreshAuth && options.refreshAuth !== undefined) {
        history.authRefreshes++;
        await options.refreshAuth();
      }
      if (decision.waitMs > 0) {
        await sleep(decision.waitMs, options.signal);
      }
    }
  }
}
