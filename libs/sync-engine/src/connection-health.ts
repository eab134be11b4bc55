import { CrmError, CrmErrorCode } from '@pm/integration-port';
import type { ConnectionHealth } from '@pm/domain/model';

/** What a run's outcome means for the connection's health. */
export type HealthEvent =
  | { kind: 'run_succeeded' }
  /** A transient failure (rate limit, outage, timeout) that survived the retries of one run. */
  | { kind: 'transient_failure'; consecutive: number; reason: string }
  | { kind: 'quota_exhausted'; reason: string; resumeAt: Date }
  | { kind: 'auth_revoked'; reason: string };

export interface HealthTransition {
  from: ConnectionHealth;
  to: ConnectionHealth;
  reason: string | null;
  /** When a paused connection may run again; null: when the user reconnects. */
  resumeAt?: Date | null;
  /** Whether the state changed (and so deserves a log line). */
  changed: boolean;
}

/** Consecutive failed runs with transient errors after which a connection counts as degraded. */
export const DEGRADED_AFTER_TRANSIENT_FAILURES = 3;

/**
 * The connection health state machine: healthy → degraded on repeated transient errors → paused on an exhausted
 * quota or revoked credentials → healthy again after a run succeeds (a paused connection resumes from its cursor).
 */
export function nextHealth(current: ConnectionHealth, event: HealthEvent): HealthTransition {
  const to = (health: ConnectionHealth, reason: string | null, resumeAt?: Date | null): HealthTransition => ({
    from: current,
    to: health,
    reason,
    resumeAt,
    changed: health !== current,
  });
  switch (event.kind) {
    case 'run_succeeded':
      return to('healthy', null);
    case 'transient_failure':
      if (current === 'paused') return to('paused', event.reason);
      return event.consecutive >= DEGRADED_AFTER_TRANSIENT_FAILURES
        ? to('degraded', `${event.consecutive} runs in a row failed: ${event.reason}`)
        : to(current, current === 'healthy' ? null : event.reason);
    case 'quota_exhausted':
      return to('paused', event.reason, event.resumeAt);
    case 'auth_revoked':
      return to('paused', event.reason, null);
  }
}

export type FailureKind = 'transient' | 'quota' | 'auth_revoked' | 'aborted' | 'fatal';

/** Sorts a run-stopping error into what the scheduler and the health machine do with it. */
export function classifyRunFailure(error: unknown): FailureKind {
  if (!(error instanceof CrmError)) return 'fatal';
  switch (error.code) {
    case CrmErrorCode.RATE_LIMITED:
    case CrmErrorCode.CRM_UNAVAILABLE:
    case CrmErrorCode.TIMEOUT:
    case CrmErrorCode.AUTH_EXPIRED:
      return 'transient';
    case CrmErrorCode.QUOTA_EXHAUSTED:
      return 'quota';
    case CrmErrorCode.AUTH_REVOKED:
    case CrmErrorCode.PERMISSION_DENIED:
      return 'auth_revoked';
    case CrmErrorCode.ABORTED:
      return 'aborted';
    default:
      return 'fatal';
  }
}
