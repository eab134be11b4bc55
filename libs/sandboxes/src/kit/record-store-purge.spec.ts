import { SandboxClock } from './clock';
import { RecordStore } from './record-store';

describe('RecordStore.purge', () => {
  it('removes a record, live or in the recycle bin, and leaves no tombstone to report', () => {
    const store = new RecordStore<{ id: string; name: string }>('persons', {
      clock: new SandboxClock({ start: '2024-05-05T05:05:05Z', frozen: true }),
    });
    store.insertMany([
      { id: '1', name: 'Ada' },
      { id: '2', name: 'Bo' },
      { id: '3', name: 'Cy' },
    ]);
    const version = store.version;
    expect(store.purge('1')).toBe(true);
    expect(store.get('1')).toBeUndefined();
    expect(store.getDeleted('1')).toBeUndefined();
    store.delete('2');
    expect(store.purge('2')).toBe(true);
    expect(store.deleted()).toEqual([]);
    expect(store.purge('missing')).toBe(false);
    expect(store.all().map((record) => record.id)).toEqual(['3']);
    expect(store.version).toBeGreaterThan(version);
  });
});
