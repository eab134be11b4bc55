import { RecordStore } from './record-store';

interface Person {
  id: string;
  emails: string[];
}

describe('RecordStore index', () => {
  it('finds records by key through inserts, updates, replaces, deletes, restores and clears', () => {
    const store = new RecordStore<Person>('persons');
    store.insert({ id: '2', emails: ['a@x.example'] });
    store.index('email', (person) => person.emails);
    store.insert({ id: '10', emails: ['a@x.example', 'b@x.example'] });
    expect(store.lookup('email', 'a@x.example').map((person) => person.id)).toEqual(['2', '10']);

    store.update('2', { emails: ['c@x.example'] });
    expect(store.lookup('email', 'a@x.example').map((person) => person.id)).toEqual(['10']);
    expect(store.lookup('email', 'c@x.example').map((person) => person.id)).toEqual(['2']);

    store.replace({ id: '10', emails: ['b@x.example'] });
    expect(store.lookup('email', 'a@x.example')).toEqual([]);

    store.delete('10');
    expect(store.lookup('email', 'b@x.example')).toEqual([]);
    store.restore('10');
    expect(store.lookup('email', 'b@x.example').map((person) => person.id)).toEqual(['10']);

    store.clear();
    expect(store.lookup('email', 'c@x.example')).toEqual([]);
    expect(() => store.lookup('phone', '1')).toThrow('no index phone');
  });
});
