import { autoMock } from '@pm/integration-port/testing';
import type { ProviderAccessService } from '../connectors/provider-access.service';
import type { ConnectionRepository, SyncRunRepository, TenantRepository } from '../repositories';
import { aConnection, aRun } from '../testing/entities';
import type { SyncQueue } from './sync-queue';
import { SyncRuns, TRANSIENT_ERROR_PREFIX } from './sync-runs';

describe('SyncRuns', () => {
  let runs: jest.Mocked<SyncRunRepository>;
  let tenants: jest.Mocked<TenantRepository>;
  let connections: jest.Mocked<ConnectionRepository>;
  let access: jest.Mocked<ProviderAccessService>;
  let queue: jest.Mocked<SyncQueue>;
  let service: SyncRuns;
  const connection = { id: 'conn-1', tenantId: 'acme' };

  beforeEach(() => {
    runs = autoMock<SyncRunRepository>('runs');
    tenants = autoMock<TenantRepository>('tenants');
    connections = autoMock<ConnectionRepository>('connections');
    access = autoMock<ProviderAccessService>('access');
    queue = autoMock<SyncQueue>('queue');
    service = new SyncRuns(runs, tenants, connections, access, queue);
  });

  describe('request', () => {
    it('returns the run already waiting instead of queuing a second one', async () => {
      const waiting = aRun({ id: 'waiting' });
      runs.findQueued.mockResolvedValue(waiting);
      expect(await service.request(connection, 'manual')).toEqual({ run: waiting, queued: false });
    });

    it('ignores a queued run older than the queue keeps jobs (6 hours): its job is gone', async () => {
      runs.findQueued.mockResolvedValue(null);
      runs.createQueued.mockResolvedValue(aRun({ id: 'new' }));
      queue.enqueue.mockResolvedValue('job-1');
      const before = Date.now();
      await service.request(connection, 'scheduled');
      const after = Date.now();
      // Six hours before the moment of the call (a busy machine lets milliseconds pass around it).
      const [, queuedAfter] = runs.findQueued.mock.calls[0];
      expect(queuedAfter.getTime()).toBeGreaterThanOrEqual(before - 6 * 3_600_000);
      expect(queuedAfter.getTime()).toBeLessThanOrEqual(after - 6 * 3_600_000);
    });

    it('records a queued run and enqueues its job with the caller’s priority', async () => {
      runs.findQueued.mockResolvedValue(null);
      runs.createQueued.mockResolvedValue(aRun({ id: 'new' }));
      queue.enqueue.mockResolvedValue('job-1');
      const result = await service.request(connection, 'manual', { priority: 10 });
      expect(result).toMatchObject({ queued: true, run: { id: 'new' } });
      expect(runs.createQueued).toHaveBeenCalledWith(connection, 'manual');
      expect(queue.enqueue).toHaveBeenCalledWith(
        { connectionId: 'conn-1', tenantId: 'acme', runId: 'new' },
        { priority: 10, singletonKey: 'conn-1' },
      );
    });

    it('queues a reconcile in a slot of its own, beside a sync waiting for the same connection', async () => {
      runs.findQueued.mockResolvedValue(null);
      runs.createQueued.mockResolvedValue(aRun({ id: 'reconcile-1', trigger: 'reconcile' }));
      queue.enqueue.mockResolvedValue('job-2');
      const result = await service.request(connection, 'reconcile');
      expect(result).toMatchObject({ queued: true, run: { id: 'reconcile-1' } });
      expect(runs.findQueued).toHaveBeenCalledWith('conn-1', expect.any(Date), { reconcile: true });
      expect(queue.enqueue).toHaveBeenCalledWith(
        { connectionId: 'conn-1', tenantId: 'acme', runId: 'reconcile-1' },
        { singletonKey: 'conn-1:reconcile' },
      );
    });

    it('drops its own run and returns the other when a concurrent request queued first', async () => {
      const other = aRun({ id: 'other' });
      runs.findQueued.mockResolvedValueOnce(null).mockResolvedValueOnce(other);
      runs.createQueued.mockResolvedValue(aRun({ id: 'mine' }));
      queue.enqueue.mockResolvedValue(null);
      runs.delete.mockResolvedValue();
      expect(await service.request(connection, 'manual')).toEqual({ run: other, queued: false });
      expect(runs.delete).toHaveBeenCalledWith('mine');
    });
  });

  it('counts transient failures in a row, stopping at the first success or permanent failure', async () => {
    runs.recentFinished.mockResolvedValue([
      aRun({ status: 'failed', error: `${TRANSIENT_ERROR_PREFIX}RATE_LIMITED: slow down` }),
      aRun({ status: 'failed', error: `${TRANSIENT_ERROR_PREFIX}UNAVAILABLE: 503` }),
      aRun({ status: 'failed', error: 'AUTH_REVOKED: invalid_grant' }),
      aRun({ status: 'failed', error: `${TRANSIENT_ERROR_PREFIX}UNAVAILABLE: 503` }),
    ]);
    expect(await service.transientFailureStreak('conn-1')).toBe(2);
    runs.recentFinished.mockResolvedValue([aRun({ status: 'succeeded' })]);
    expect(await service.transientFailureStreak('conn-1')).toBe(0);
  });

  describe('whyNotRunnable', () => {
    it('refuses a connection that is not connected, without asking anything else', async () => {
      expect(await service.whyNotRunnable(aConnection({ status: 'needs_reconnect' }))).toBe(
        'the connection is needs_reconnect',
      );
    });

    it('refuses an inactive tenant', async () => {
      tenants.isActive.mockResolvedValue(false);
      expect(await service.whyNotRunnable(aConnection())).toBe('the tenant is inactive');
    });

    it('refuses a CRM an administrator switched off, and lets an enabled one run', async () => {
      tenants.isActive.mockResolvedValue(true);
      access.isEnabled.mockResolvedValue(false);
      expect(await service.whyNotRunnable(aConnection({ provider: 'salesforce' }))).toBe(
        'salesforce is disabled by an administrator',
      );
      expect(access.isEnabled).toHaveBeenCalledWith('salesforce', 'acme');
      access.isEnabled.mockResolvedValue(true);
      expect(await service.whyNotRunnable(aConnection())).toBeNull();
    });
  });
});
