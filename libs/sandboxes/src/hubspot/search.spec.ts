import { HubSpotApiError } from './errors';
import {
  matchesFilter,
  matchesFilterGroups,
  parseSearchRequest,
  pinnedValues,
  PropertyTypeLookup,
  runSearch,
  SearchableRecord,
  SearchFilter,
  sortRecords,
} from './search';
import type { PropertyType } from './properties';

const TYPES: Record<string, PropertyType> = {
  email: 'string',
  firstname: 'string',
  lastmodifieddate: 'datetime',
  numberofemployees: 'number',
  lifecyclestage: 'enumeration',
};
const typeOf: PropertyTypeLookup = (name) => TYPES[name];

function contact(id: string, properties: SearchableRecord['properties']): SearchableRecord {
  return { id, properties };
}

const ada = contact('1', {
  email: 'ada@example.com',
  firstname: 'Ada Lovelace',
  lastmodifieddate: '2024-01-01T00:00:00.000Z',
  numberofemployees: '10',
  lifecyclestage: 'lead',
});
const bob = contact('2', {
  email: 'Bob@Other.org',
  firstname: 'Bob',
  lastmodifieddate: '2024-01-02T00:00:00.000Z',
  numberofemployees: '200',
  lifecyclestage: 'customer',
});
const nameless = contact('3', { email: 'x@example.com', lastmodifieddate: '2024-01-03T00:00:00.000Z' });

function filter(
  partial: Partial<SearchFilter> & Pick<SearchFilter, 'propertyName' | 'operator'>,
): SearchFilter {
  return { ...partial };
}

function captureError(action: () => unknown): HubSpotApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof HubSpotApiError) return error;
    throw error;
  }
  throw new Error('expected a HubSpotApiError');
}

describe('matchesFilter', () => {
  it('compares text case-insensitively for EQ, NEQ and IN', () => {
    expect(
      matchesFilter(bob, filter({ propertyName: 'email', operator: 'EQ', value: 'bob@other.org' }), typeOf),
    ).toBe(true);
    expect(
      matchesFilter(bob, filter({ propertyName: 'email', operator: 'NEQ', value: 'BOB@other.org' }), typeOf),
    ).toBe(false);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'lifecyclestage', operator: 'IN', values: ['lead', 'CUSTOMER'] }),
        typeOf,
      ),
    ).toBe(true);
    expect(
      matchesFilter(
        ada,
        filter({ propertyName: 'lifecyclestage', operator: 'NOT_IN', values: ['customer'] }),
        typeOf,
      ),
    ).toBe(true);
  });

  it('compares datetimes given as epoch milliseconds or ISO 8601', () => {
    const jan2 = String(Date.parse('2024-01-02T00:00:00.000Z'));
    expect(
      matchesFilter(bob, filter({ propertyName: 'lastmodifieddate', operator: 'GTE', value: jan2 }), typeOf),
    ).toBe(true);
    expect(
      matchesFilter(ada, filter({ propertyName: 'lastmodifieddate', operator: 'GTE', value: jan2 }), typeOf),
    ).toBe(false);
    expect(
      matchesFilter(ada, filter({ propertyName: 'lastmodifieddate', operator: 'LT', value: jan2 }), typeOf),
    ).toBe(true);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'lastmodifieddate', operator: 'LTE', value: '2024-01-02T00:00:00.000Z' }),
        typeOf,
      ),
    ).toBe(true);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'lastmodifieddate', operator: 'GT', value: '2024-01-02T00:00:00.000Z' }),
        typeOf,
      ),
    ).toBe(false);
  });

  it('compares numbers numerically, not as text', () => {
    // As text "200" < "50"; as numbers it is not.
    expect(
      matchesFilter(bob, filter({ propertyName: 'numberofemployees', operator: 'GT', value: '50' }), typeOf),
    ).toBe(true);
    expect(
      matchesFilter(
        ada,
        filter({ propertyName: 'numberofemployees', operator: 'BETWEEN', value: '5', highValue: '10' }),
        typeOf,
      ),
    ).toBe(true);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'numberofemployees', operator: 'BETWEEN', value: '5', highValue: '10' }),
        typeOf,
      ),
    ).toBe(false);
  });

  it('tells set from unset properties', () => {
    expect(
      matchesFilter(nameless, filter({ propertyName: 'firstname', operator: 'HAS_PROPERTY' }), typeOf),
    ).toBe(false);
    expect(
      matchesFilter(nameless, filter({ propertyName: 'firstname', operator: 'NOT_HAS_PROPERTY' }), typeOf),
    ).toBe(true);
    expect(matchesFilter(ada, filter({ propertyName: 'firstname', operator: 'HAS_PROPERTY' }), typeOf)).toBe(
      true,
    );
    // A record without the property is "not equal" to any value, and never equal, less or greater.
    expect(
      matchesFilter(nameless, filter({ propertyName: 'firstname', operator: 'NEQ', value: 'Bob' }), typeOf),
    ).toBe(true);
    expect(
      matchesFilter(nameless, filter({ propertyName: 'firstname', operator: 'LT', value: 'zzz' }), typeOf),
    ).toBe(false);
  });

  it('matches whole tokens with CONTAINS_TOKEN, with * as a wildcard', () => {
    expect(
      matchesFilter(
        ada,
        filter({ propertyName: 'firstname', operator: 'CONTAINS_TOKEN', value: 'lovelace' }),
        typeOf,
      ),
    ).toBe(true);
    expect(
      matchesFilter(
        ada,
        filter({ propertyName: 'firstname', operator: 'CONTAINS_TOKEN', value: 'love' }),
        typeOf,
      ),
    ).toBe(false);
    expect(
      matchesFilter(
        ada,
        filter({ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@example.com' }),
        typeOf,
      ),
    ).toBe(true);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@example.com' }),
        typeOf,
      ),
    ).toBe(false);
    expect(
      matchesFilter(
        bob,
        filter({ propertyName: 'email', operator: 'NOT_CONTAINS_TOKEN', value: '*@example.com' }),
        typeOf,
      ),
    ).toBe(true);
  });
});

describe('matchesFilterGroups', () => {
  it('ANDs filters within a group and ORs the groups', () => {
    const groups = [
      {
        filters: [
          filter({ propertyName: 'lifecyclestage', operator: 'EQ', value: 'lead' }),
          filter({ propertyName: 'numberofemployees', operator: 'GT', value: '100' }),
        ],
      },
      { filters: [filter({ propertyName: 'email', operator: 'EQ', value: 'x@example.com' })] },
    ];
    expect(matchesFilterGroups(ada, groups, typeOf)).toBe(false);
    expect(matchesFilterGroups(nameless, groups, typeOf)).toBe(true);
    expect(matchesFilterGroups(bob, [], typeOf)).toBe(true);
  });
});

describe('sortRecords', () => {
  it('sorts datetimes chronologically, then by id, with unset values last', () => {
    const sameTime = contact('10', { lastmodifieddate: '2024-01-01T00:00:00.000Z' });
    const unset = contact('0', {});
    const ascending = sortRecords(
      [nameless, unset, sameTime, bob, ada],
      [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      typeOf,
    );
    expect(ascending.map((record) => record.id)).toEqual(['1', '10', '2', '3', '0']);
    const descending = sortRecords(
      [ada, bob, nameless],
      [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }],
      typeOf,
    );
    expect(descending.map((record) => record.id)).toEqual(['3', '2', '1']);
  });

  it('orders by numeric id when no sort is given', () => {
    const records = ['100', '9', '20'].map((id) => contact(id, {}));
    expect(sortRecords(records, [], typeOf).map((record) => record.id)).toEqual(['9', '20', '100']);
  });
});

describe('parseSearchRequest', () => {
  it('normalises defaults and string sorts', () => {
    const request = parseSearchRequest({ sorts: ['-lastmodifieddate'] }, typeOf);
    expect(request).toMatchObject({
      limit: 10,
      offset: 0,
      filterGroups: [],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }],
    });
    const jsonSort = JSON.stringify({ propertyName: 'email', direction: 'DESCENDING' });
    expect(parseSearchRequest({ sorts: [jsonSort] }, typeOf).sorts).toEqual([
      { propertyName: 'email', direction: 'DESCENDING' },
    ]);
  });

  it('refuses what HubSpot refuses with a 400 VALIDATION_ERROR', () => {
    const cases: unknown[] = [
      { limit: 201 },
      { after: '10000' },
      { filterGroups: [{ filters: [{ propertyName: 'nope', operator: 'EQ', value: 'x' }] }] },
      { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'LIKE', value: 'x' }] }] },
      { filterGroups: Array.from({ length: 6 }, () => ({ filters: [] })) },
      {
        filterGroups: [
          { filters: Array.from({ length: 7 }, () => ({ propertyName: 'email', operator: 'HAS_PROPERTY' })) },
        ],
      },
      { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'BETWEEN', value: 'a' }] }] },
      { sorts: [{ propertyName: 'email', direction: 'SIDEWAYS' }] },
      {
        filterGroups: [
          {
            filters: [
              {
                propertyName: 'email',
                operator: 'IN',
                values: Array.from({ length: 101 }, (_, i) => `p${i}@x.com`),
              },
            ],
          },
        ],
      },
    ];
    for (const body of cases) {
      const error = captureError(() => parseSearchRequest(body, typeOf));
      expect(error.httpStatus).toBe(400);
      expect(error.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    }
  });
});

describe('pinnedValues', () => {
  it('names the EQ/IN text filter each group pins its records to, lower-cased; none when a group pins nothing', () => {
    const request = parseSearchRequest(
      {
        filterGroups: [
          { filters: [{ propertyName: 'email', operator: 'IN', values: ['Ada@Example.com', 'b@x.org'] }] },
          { filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'Bob' }] },
        ],
      },
      typeOf,
    );
    expect(pinnedValues(request, typeOf)).toEqual([
      { propertyName: 'email', keys: ['ada@example.com', 'b@x.org'] },
      { propertyName: 'firstname', keys: ['bob'] },
    ]);
    const unpinned = parseSearchRequest(
      { filterGroups: [{ filters: [{ propertyName: 'numberofemployees', operator: 'EQ', value: '10' }] }] },
      typeOf,
    );
    expect(pinnedValues(unpinned, typeOf)).toBeUndefined();
  });
});

describe('runSearch', () => {
  const many = Array.from({ length: 25 }, (_, index) =>
    contact(String(index + 1), {
      email: `p${index + 1}@example.com`,
      lastmodifieddate: '2024-05-05T00:00:00.000Z',
    }),
  );

  it('pages through results with the offset cursor and reports the total', () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const request = parseSearchRequest({ limit: 10, after, sorts: ['lastmodifieddate'] }, typeOf);
      const page = runSearch(many, request, typeOf);
      expect(page.total).toBe(25);
      seen.push(...page.results.map((record) => record.id));
      after = page.nextAfter;
      pages += 1;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
  });

  it('applies the free-text query to searchable properties', () => {
    const request = parseSearchRequest({ query: 'bob' }, typeOf);
    expect(runSearch([ada, bob], request, typeOf, ['email', 'firstname']).results).toEqual([bob]);
  });
});
