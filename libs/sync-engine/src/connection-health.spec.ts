import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { classifyRunFailure, DEGRADED_AFTER_TRANSIENT_FAILURES, nextHealth } from './connection-health';
import { nextSyncDue } from './sync-schedule';

describe('connection health state machine', () => {
  it('goes healthy → degraded after repeated transient failures → healthy after a good run', () => {
    const once = nextHealth('healthy', { kind: 'transient_failure', consecutive: 1, reason: '503' });
    expect(once).toMatchObject({ to: 'healthy', changed: false });
    const degraded = nextHealth('healthy', {
      kind: 'transient_failure',
      consecutive: DEGRADED_AFTER_TRANSIENT_FAILURES,
      reason: 'CRM_UNAVAILABLE: 503',
    });
    expect(degraded).toMatchObject({ from: 'healthy', to: 'degraded', changed: true });
    expect(nextHealth('degraded', { kind: 'run_succeeded' })).toMatchObject({ to: 'healthy', changed: true });
  });

  it('pauses on an exhausted quota until it refills, and on revoked credentials until reconnect', () => {
    const resumeAt = new Date('2026-01-02T00:00:00Z');
    expect(nextHealth('degraded', { kind: 'quota_exhausted', reason: 'daily', resumeAt })).toMatchObject({
      to: 'paused',
      resumeAt,
    });
    expect(nextHealth('healthy', { kind: 'auth_revoked', reason: 'invalid_grant' })).toMatchObject({
      to: 'paused',
      resumeAt: null,
    });
    expect(nextHealth('paused', { kind: 'transient_failure', consecutive: 9, reason: 'x' }).to).toBe(
      'paused',
    );
    expect(nextHealth('paused', { kind: 'run_succeeded' }).to).toBe('healthy');
  });

  it('sorts run-stopping errors', () => {
    expect(classifyRunFailure(new CrmError(CrmErrorCode.RATE_LIMITED, 'x'))).toBe('transient');
    expect(classifyRunFailure(new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'x'))).toBe('quota');
    expect(classifyRunFailure(new CrmError(CrmErrorCode.AUTH_REVOKED, 'x'))).toBe('auth_revoked');
    expect(classifyRunFailure(new CrmError(CrmErrorCode.ABORTED, 'x'))).toBe('aborted');
    expect(classifyRunFailure(new TypeError('bug'))).toBe('fatal');
  });
});

describe('nextSyncDue', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('is due by frequency after the last run, never for manual, and not before a pause ends', () => {
    expect(nextSyncDue({ frequency: 'every_15_minutes', lastSyncAt: null, now })).toEqual(now);
    expect(nextSyncDue({ frequency: 'hourly', lastSyncAt: now, now })).toEqual(
      new Date('2026-01-01T13:00:00Z'),
    );
    expect(nextSyncDue({ frequency: 'manual', lastSyncAt: null, now })).toBeNull();
    const pausedUntil = new Date('2026-01-02T00:00:00Z');
    expect(nextSyncDue({ frequency: 'every_5_minutes', lastSyncAt: now, pausedUntil, now })).toEqual(
      pausedUntil,
    );
  });
});
