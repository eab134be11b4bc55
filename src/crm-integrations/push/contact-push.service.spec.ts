import { autoMock } from '@pm/integration-port/testing';
import { DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from '@pm/domain';
import type { ConnectionRepository } from '../repositories';
import { aConnection } from '../testing/entities';
import type { ContactPushQueue } from './contact-push.queue';
import { ContactPushService } from './contact-push.service';

const settings = (extra: Partial<ConnectionSettings> & { realtime?: unknown }) =>
  ({ ...DEFAULT_CONNECTION_SETTINGS, ...extra }) as ConnectionSettings;

describe('ContactPushService', () => {
  let connections: jest.Mocked<ConnectionRepository>;
  let queue: jest.Mocked<ContactPushQueue>;
  let service: ContactPushService;

  beforeEach(() => {
    connections = autoMock<ConnectionRepository>('connections');
    queue = autoMock<ContactPushQueue>('queue');
    service = new ContactPushService(connections, queue);
  });

  it('queues one job per contact for each connected real-time connection that writes to its CRM, and no other', async () => {
    connections.listForTenant.mockResolvedValue([
      aConnection({ id: 'live', settings: settings({ realtime: true }) }),
      aConnection({ id: 'scheduled', settings: settings({}) }),
      aConnection({ id: 'truthy-string', settings: settings({ realtime: 'yes' as never }) }),
      aConnection({ id: 'read-only', settings: settings({ realtime: true, direction: 'from_crm' }) }),
      aConnection({ id: 'gone', status: 'disconnected', settings: settings({ realtime: true }) }),
    ]);
    queue.enqueue.mockResolvedValue();
    await service.contactsChanged('acme', ['c1', 'c2', 'c1']);
    expect(queue.enqueue).toHaveBeenCalledWith([
      { connectionId: 'live', tenantId: 'acme', contactId: 'c1' },
      { connectionId: 'live', tenantId: 'acme', contactId: 'c2' },
    ]);
  });

  it('never fails the API request: a queue that cannot be reached leaves the change to the scheduled sync', async () => {
    connections.listForTenant.mockRejectedValue(new Error('database gone'));
    await expect(service.contactsChanged('acme', ['c1'])).resolves.toBeUndefined();
    expect(queue.enqueue).not.toHaveBeenCalled();
  });

  it('does nothing for no contacts', async () => {
    await service.contactsChanged('acme', []);
    expect(connections.listForTenant).not.toHaveBeenCalled();
  });
});
