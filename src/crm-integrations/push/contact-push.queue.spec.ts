import type PgBoss from 'pg-boss';
import { autoMock } from '@pm/integration-port/testing';
import type { SyncQueue } from '../sync/sync-queue';
import { ContactPushQueue } from './contact-push.queue';
import { CONTACT_PUSH_QUEUE } from './contact-push.tokens';

describe('ContactPushQueue', () => {
  it('queues each contact once per connection under its own key, to start when the debounce window ends', async () => {
    const boss = autoMock<PgBoss>('boss');
    boss.createQueue.mockResolvedValue();
    boss.send.mockResolvedValue('job');
    const syncQueue = autoMock<SyncQueue>('syncQueue');
    syncQueue.start.mockResolvedValue(boss);
    const queue = new ContactPushQueue(syncQueue, { debounceMs: 2_000 });
    const before = Date.now();

    await queue.enqueue([
      { connectionId: 'conn-1', tenantId: 'acme', contactId: 'c1' },
      { connectionId: 'conn-2', tenantId: 'acme', contactId: 'c1' },
    ]);

    expect(boss.createQueue).toHaveBeenCalledWith(
      CONTACT_PUSH_QUEUE,
      expect.objectContaining({ policy: 'short' }),
    );
    expect(boss.send).toHaveBeenCalledTimes(2);
    const [name, data, options] = boss.send.mock.calls[0] as unknown as [string, object, PgBoss.SendOptions];
    expect(name).toBe(CONTACT_PUSH_QUEUE);
    expect(data).toEqual({ connectionId: 'conn-1', tenantId: 'acme', contactId: 'c1' });
    expect(options.singletonKey).toBe('conn-1:c1');
    const startAfter = (options.startAfter as Date).getTime();
    expect(startAfter).toBeGreaterThanOrEqual(before + 2_000);
    expect(startAfter).toBeLessThan(Date.now() + 2_000 + 1);
    expect((boss.send.mock.calls[1] as unknown as [string, object, PgBoss.SendOptions])[2].singletonKey).toBe(
      'conn-2:c1',
    );
  });

  it('sends nothing for no contacts', async () => {
    const syncQueue = autoMock<SyncQueue>('syncQueue');
    await new ContactPushQueue(syncQueue).enqueue([]);
    expect(syncQueue.start).not.toHaveBeenCalled();
  });
});
