import { autoMock } from '@pm/integration-port/testing';
import type { ChangeHintRepository } from '../repositories';
import type { ChangeHintQueue } from './change-hint-queue';
import { QueuedChangeHintSink } from './queued-change-hint-sink';

describe('QueuedChangeHintSink', () => {
  const now = new Date('2026-12-06T10:00:00.000Z');
  const occurredAt = new Date('2026-12-06T09:59:59.000Z');

  function setup() {
    const hints = autoMock<ChangeHintRepository>('ChangeHintRepository');
    const queue = autoMock<ChangeHintQueue>('ChangeHintQueue');
    hints.insert.mockResolvedValue(1);
    queue.enqueue.mockResolvedValue('job');
    const sink = new QueuedChangeHintSink(hints, queue, { now: () => now, debounceMs: 1_500 });
    return { hints, queue, sink };
  }

  it('stores one row per named record (each id once, empty ids dropped) and queues one debounced job per connection', async () => {
    const { hints, queue, sink } = setup();
    await sink.accept([
      {
        connectionId: 'c1',
        object: 'contacts',
        crmIds: ['1', '1', ''],
        action: 'updated',
        occurredAt,
        eventId: 'e1',
      },
      { connectionId: 'c1', object: 'contacts', crmIds: ['2'], action: 'created', occurredAt },
      { connectionId: 'c2', object: 'persons', crmIds: ['9'], action: 'deleted', occurredAt, eventId: 'e9' },
    ]);
    expect(hints.insert).toHaveBeenCalledWith(
      [
        { connectionId: 'c1', object: 'contacts', crmId: '1', action: 'updated', eventId: 'e1', occurredAt },
        { connectionId: 'c1', object: 'contacts', crmId: '2', action: 'created', eventId: null, occurredAt },
        { connectionId: 'c2', object: 'persons', crmId: '9', action: 'deleted', eventId: 'e9', occurredAt },
      ],
      now,
    );
    expect(queue.enqueue.mock.calls).toEqual([
      ['c1', 1_500],
      ['c2', 1_500],
    ]);
  });

  it('does nothing for hints that name no record', async () => {
    const { sink } = setup();
    await sink.accept([
      { connectionId: 'c1', object: 'contacts', crmIds: [], action: 'updated', occurredAt },
    ]);
  });
});
