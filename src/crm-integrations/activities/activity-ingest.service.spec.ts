import { autoMock } from '@pm/integration-port/testing';
import type { CrmConnection } from '@pm/domain';
import type { AuditService } from '../audit/audit.service';
import type { ActivityContactRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { ActivityIngestService } from './activity-ingest.service';
import type { ActivityQueue } from './activity-queue';
import type { ActivityRepository } from './activity.repository';

const base = { messageId: 'm1', email: 'Ada@Example.com', occurredAt: '2026-12-05T10:00:00Z' };

describe('ingesting e-mail events', () => {
  let tenants: jest.Mocked<TenantService>;
  let repository: jest.Mocked<ActivityRepository>;
  let queue: jest.Mocked<ActivityQueue>;
  let audit: jest.Mocked<AuditService>;
  let contacts: jest.Mocked<ActivityContactRepository>;
  let service: ActivityIngestService;

  beforeEach(() => {
    tenants = autoMock<TenantService>('tenants');
    repository = autoMock<ActivityRepository>('repository');
    queue = autoMock<ActivityQueue>('queue');
    audit = autoMock<AuditService>('audit');
    contacts = autoMock<ActivityContactRepository>('contacts');
    tenants.require.mockResolvedValue(undefined as never);
    repository.loggingConnections.mockResolvedValue([{ id: 'conn-1' } as CrmConnection]);
    // The store takes every event as new except `evt-old`.
    repository.storeEvents.mockImplementation(
      async (_tenant, events) => new Set(events.map((e) => e.eventId).filter((id) => id !== 'evt-old')),
    );
    queue.enqueue.mockResolvedValue(true as never);
    audit.record.mockResolvedValue(undefined as never);
    contacts.markEmailStatus.mockResolvedValue(undefined);
    service = new ActivityIngestService(tenants, repository, queue, audit, contacts);
  });

  it('marks the PenguinMails contact on a hard bounce or unsubscribe, also when repeated, never on a soft bounce', async () => {
    await service.ingest({ actor: 'test', tenantId: null } as never, 'acme', [
      { ...base, eventId: 'evt-hard', type: 'bounced', bounceType: 'hard', reason: '550 unknown user' },
      { ...base, eventId: 'evt-soft', type: 'bounced', bounceType: 'soft', reason: '452 full' },
      { ...base, eventId: 'evt-unsub', type: 'unsubscribed', occurredAt: '2026-12-05T11:00:00Z' },
      { ...base, eventId: 'evt-sent', type: 'sent' },
    ]);
    expect(contacts.markEmailStatus).toHaveBeenCalledWith('acme', [
      {
        email: 'ada@example.com',
        status: 'bounced',
        reason: '550 unknown user',
        at: new Date('2026-12-05T10:00:00Z'),
      },
      {
        email: 'ada@example.com',
        status: 'unsubscribed',
        reason: null,
        at: new Date('2026-12-05T11:00:00Z'),
      },
    ]);
    expect(queue.enqueue).toHaveBeenCalledWith('conn-1');
  });

  it('marks again for an event already stored: a request that failed after storing its events is retried', async () => {
    // The first attempt stored `evt-old` and then failed before marking; the retry finds it stored.
    contacts.markEmailStatus.mockRejectedValueOnce(new Error('connection terminated'));
    const retried = [{ ...base, eventId: 'evt-old', type: 'unsubscribed' }];
    await expect(service.ingest({ actor: 'test', tenantId: null } as never, 'acme', retried)).rejects.toThrow(
      'connection terminated',
    );
    const answer = await service.ingest({ actor: 'test', tenantId: null } as never, 'acme', retried);
    expect(answer).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(contacts.markEmailStatus).toHaveBeenLastCalledWith('acme', [
      {
        email: 'ada@example.com',
        status: 'unsubscribed',
        reason: null,
        at: new Date('2026-12-05T10:00:00Z'),
      },
    ]);
  });
});
