import { SandboxClock } from './clock';
import { RecordStore, compareBy, compareIds, decodeCursor, encodeCursor } from './record-store';

interface Person {
  id: string;
  name: string;
  updatedAt: string;
}

describe('RecordStore', () => {
  const clock = new SandboxClock({ start: '2024-05-05T05:05:05Z', frozen: true });
  let store: RecordStore<Person>;

  beforeEach(() => {
    store = new RecordStore<Person>('persons', { clock });
    store.insertMany([
      { id: '3', name: 'Cy', updatedAt: '2024-01-02' },
      { id: '1', name: 'Ada', updatedAt: '2024-01-01' },
      { id: '2', name: 'Bo', updatedAt: '2024-01-02' },
    ]);
  });

  it('keeps insertion order and refuses duplicate ids', () => {
    expect(store.all().map((p) => p.id)).toEqual(['3', '1', '2']);
    expect(store.size).toBe(3);
    expect(() => store.insert({ id: '1', name: 'again', updatedAt: '' })).toThrow(/duplicate id 1/);
  });

  it('update() merges a patch into a new object and keeps the id', () => {
    const before = store.get('1');
    const after = store.update('1', { name: 'Ada L.', id: 'hijack' } as Partial<Person>);
    expect(after).toEqual({ id: '1', name: 'Ada L.', updatedAt: '2024-01-01' });
    expect(before?.name).toBe('Ada');
    expect(store.get('1')?.name).toBe('Ada L.');
    expect(store.update('missing', { name: 'x' })).toBeUndefined();
  });

  it('delete() leaves a tombstone stamped by the clock; restore() brings the record back', () => {
    const tombstone = store.delete('2');
    expect(tombstone).toEqual({
      id: '2',
      deletedAt: new Date('2024-05-05T05:05:05Z'),
      record: expect.objectContaining({ name: 'Bo' }),
    });
    expect(store.get('2')).toBeUndefined();
    expect(store.size).toBe(2);
    expect(store.deleted().map((t) => t.id)).toEqual(['2']);
    expect(store.delete('2')).toBeUndefined();
    expect(store.restore('2')?.name).toBe('Bo');
    expect(store.deleted()).toEqual([]);
  });

  it('filter, find and a stable multi-key sort ending on the id', () => {
    expect(store.filter((p) => p.updatedAt === '2024-01-02').map((p) => p.id)).toEqual(['3', '2']);
    expect(store.find((p) => p.name === 'Ada')?.id).toBe('1');
    const sorted = store.sorted(
      compareBy<Person>({ key: (p) => p.updatedAt, direction: 'desc' }, { key: (p) => p.id }),
    );
    expect(sorted.map((p) => p.id)).toEqual(['2', '3', '1']);
  });

  it('version changes on every write and not on reads', () => {
    const start = store.version;
    store.all();
    store.get('1');
    expect(store.version).toBe(start);
    store.update('1', { name: 'x' });
    store.delete('2');
    store.restore('2');
    expect(store.version).toBe(start + 3);
    expect(store.update('missing', { name: 'y' })).toBeUndefined();
    expect(store.version).toBe(start + 3);
  });

  it('compareIds orders numeric ids numerically', () => {
    expect(['10', '9', '100', '1'].sort(compareIds)).toEqual(['1', '9', '10', '100']);
  });

  it('cursors round-trip and garbage does not decode', () => {
    const cursor = encodeCursor({ after: '42', t: 5 });
    expect(decodeCursor(cursor)).toEqual({ after: '42', t: 5 });
    expect(decodeCursor('%%%not-base64')).toBeUndefined();
  });
});
