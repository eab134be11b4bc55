import {
  IntegrationPortRegistry,
  type ChangeSubscription,
  type CrmSession,
  type IntegrationPort,
  type StreamedChange,
  type SubscribeChangesRequest,
} from '@pm/integration-port';
import { autoMock } from '@pm/integration-port/testing';
import type { ChangeStreamLeaseRepository } from '../../repositories/change-stream-lease.repository';
import type { ChangeStreamPositionRepository } from '../../repositories/change-stream-position.repository';
import type { ReconcileService } from '../../reconcile/reconcile.service';
import type { TokenVault } from '../../vault/token-vault';
import type { ChangeHintSink } from '../change-hints';
import { SalesforceChangeSubscriber, toChangeHint } from './salesforce-change-subscriber';

const CHANNEL = '/data/ContactChangeEvent';

function change(overrides: Partial<StreamedChange> = {}): StreamedChange {
  return {
    channel: CHANNEL,
    object: 'Contact',
    recordIds: ['003A'],
    action: 'updated',
    gap: false,
    changedFields: ['Email'],
    occurredAt: '2026-12-06T00:00:00.000Z',
    position: '42',
    ...overrides,
  };
}

describe('toChangeHint', () => {
  it('carries the records, the action, the commit time and the replay id as the event id', () => {
    expect(toChangeHint('c1', change())).toEqual({
      connectionId: 'c1',
      object: 'Contact',
      crmIds: ['003A'],
      action: 'updated',
      occurredAt: new Date('2026-12-06T00:00:00.000Z'),
      eventId: '42',
    });
  });

  it('makes a gap an "other" hint for the object (and the records it names, if any)', () => {
    expect(toChangeHint('c1', change({ gap: true, action: 'other', recordIds: [] }))).toMatchObject({
      object: 'Contact',
      crmIds: [],
      action: 'other',
    });
  });
});

describe('SalesforceChangeSubscriber', () => {
  let port: jest.Mocked<IntegrationPort>;
  let vault: jest.Mocked<TokenVault>;
  let positions: jest.Mocked<ChangeStreamPositionRepository>;
  let leases: jest.Mocked<ChangeStreamLeaseRepository>;
  let sink: jest.Mocked<ChangeHintSink>;
  let requests: SubscribeChangesRequest[];

  beforeEach(() => {
    port = autoMock<IntegrationPort>('port');
    vault = autoMock<TokenVault>('vault');
    positions = autoMock<ChangeStreamPositionRepository>('positions');
    leases = autoMock<ChangeStreamLeaseRepository>('leases');
    // No other worker: every lease asked for is granted.
    leases.claim.mockImplementation(async (ids) => [...ids]);
    leases.release.mockResolvedValue();
    sink = autoMock<ChangeHintSink>('sink');
    requests = [];
    jest
      .mocked(port.subscribeChanges!)
      .mockImplementation(async (_session: CrmSession, request: SubscribeChangesRequest) => {
        requests.push(request);
        const subscription: ChangeSubscription = {
          channels: [CHANNEL],
          ready: Promise.resolve(),
          stop: async () => undefined,
        };
        return subscription;
      });
    vault.session.mockResolvedValue({ connectionId: 'c1', accessToken: 'token-1' });
    positions.load.mockResolvedValue({ [CHANNEL]: '41' });
  });

  function subscriber(withSink = true, reconcile?: ReconcileService): SalesforceChangeSubscriber {
    const registry = new IntegrationPortRegistry({ salesforce: port });
    return new SalesforceChangeSubscriber(
      registry,
      vault,
      positions,
      leases,
      withSink ? sink : undefined,
      { refreshIntervalMs: 0 },
      reconcile,
    );
  }

  it('subscribes nothing (and reads nothing) while no hint sink is bound', async () => {
    await subscriber(false).refresh();
    expect(positions.connectedOf).not.toHaveBeenCalled();
  });

  it('follows only connected connections with real-time on and objects to sync, from their stored positions', async () => {
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
      { id: 'c2', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: false },
      { id: 'c3', tenantId: 'acme', provider: 'salesforce', objects: [], realtime: true },
    ]);
    const service = subscriber();
    await service.refresh();
    await service.ready('c1');
    expect(service.running()).toEqual(['c1']);
    expect(vault.session).toHaveBeenCalledWith('c1');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      objects: ['Contact'],
      from: { [CHANNEL]: '41' },
      defaultFrom: 'new',
    });
  });

  it('stores the position only after the sink accepted the hint', async () => {
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
    ]);
    const service = subscriber();
    await service.refresh();
    await service.ready('c1');
    sink.accept.mockResolvedValue();
    positions.save.mockResolvedValue();

    await requests[0].onChange(change());
    expect(sink.accept).toHaveBeenCalledWith([toChangeHint('c1', change())]);
    expect(positions.save).toHaveBeenCalledWith('c1', CHANNEL, '42');
    expect(sink.accept.mock.invocationCallOrder[0]).toBeLessThan(positions.save.mock.invocationCallOrder[0]);

    sink.accept.mockRejectedValueOnce(new Error('queue down'));
    await expect(requests[0].onChange(change({ position: '43' }))).rejects.toThrow('queue down');
    expect(positions.save).toHaveBeenCalledTimes(1);
  });

  it('marks the gap and asks for a reconcile when the stored replay id is refused, then resumes from every event', async () => {
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
    ]);
    const reconcile = autoMock<ReconcileService>('reconcile');
    reconcile.request.mockResolvedValue({ run: {} as never, queued: true });
    positions.markGap.mockResolvedValue();
    const service = subscriber(true, reconcile);
    await service.refresh();
    await service.ready('c1');

    requests[0].onFailure({
      kind: 'invalid_position',
      channel: CHANNEL,
      message: 'The replayId 41 you provided was invalid',
    });
    await service.ready('c1');

    expect(positions.markGap).toHaveBeenCalledWith('c1', CHANNEL, expect.any(Date));
    expect(reconcile.request).toHaveBeenCalledWith({ id: 'c1', tenantId: 'acme' });
    expect(requests).toHaveLength(2);
  });

  it('follows only the streams whose lease it holds, and lets go of one another worker took over', async () => {
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
      { id: 'c2', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
    ]);
    // Another worker holds c2.
    leases.claim.mockImplementation(async (ids) => ids.filter((id) => id !== 'c2'));
    const service = subscriber();
    await service.refresh();
    await service.ready('c1');
    expect(service.running()).toEqual(['c1']);
    expect(leases.claim).toHaveBeenCalledWith(['c1', 'c2'], service.holder, 90_000);

    // This worker's lease on c1 ran out (it was paused) and the other worker took the stream over.
    leases.claim.mockResolvedValue([]);
    await service.refresh();
    expect(service.running()).toEqual([]);
    expect(leases.release).not.toHaveBeenCalled();
  });

  it('gives its leases up when a connection stops being real-time, and all of them when the process stops', async () => {
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: true },
    ]);
    const service = subscriber();
    await service.refresh();
    await service.ready('c1');
    positions.connectedOf.mockResolvedValue([
      { id: 'c1', tenantId: 'acme', provider: 'salesforce', objects: ['Contact'], realtime: false },
    ]);
    await service.refresh();
    expect(service.running()).toEqual([]);
    expect(leases.release).toHaveBeenCalledWith(service.holder, ['c1']);

    await service.onModuleDestroy();
    expect(leases.release).toHaveBeenLastCalledWith(service.holder);
  });
});
