import { SalesforceSchema } from './schema';
import {
  formatDateTime,
  parseDateTime,
  parseSoql,
  prepareSoql,
  SoqlDataSource,
  SoqlError,
  SoqlRow,
} from './soql';

const schema = new SalesforceSchema();
const NOW = Date.parse('2026-03-10T12:00:00Z');

const accounts: SoqlRow[] = [{ Id: '0018d0000000001AAA', Name: 'Acme' }];

function contact(id: number, fields: SoqlRow): SoqlRow {
  return {
    Id: `0038d000000000${id}AAA`,
    IsDeleted: false,
    FirstName: null,
    LastName: null,
    Email: null,
    AccountId: null,
    HasOptedOutOfEmail: false,
    SystemModstamp: '2026-01-01T00:00:00.000+0000',
    ...fields,
  };
}

const contacts: SoqlRow[] = [
  contact(1, {
    FirstName: 'Ada',
    LastName: 'Lovelace',
    Email: 'ada@example.com',
    SystemModstamp: '2026-01-02T10:00:00.000+0000',
    AccountId: accounts[0].Id,
  }),
  contact(2, {
    FirstName: 'Grace',
    LastName: 'Hopper',
    Email: 'GRACE@example.com',
    SystemModstamp: '2026-01-03T10:00:00.000+0000',
  }),
  contact(3, {
    FirstName: 'Alan',
    LastName: "O'Turing",
    Email: null,
    SystemModstamp: '2026-01-03T10:00:00.000+0000',
    HasOptedOutOfEmail: true,
  }),
  contact(4, {
    FirstName: null,
    LastName: 'Hopper',
    Email: 'h2@test.org',
    SystemModstamp: '2026-03-10T08:00:00.000+0000',
  }),
];

const source: SoqlDataSource = {
  object: (name) => schema.object(name),
  lookup: (id) => {
    const row = accounts.find((account) => account.Id === id);
    return row ? { objectName: 'Account', row } : undefined;
  },
};

function run(soql: string) {
  return prepareSoql(soql, source, {
    nowMs: NOW,
    recordUrl: (type, id) => `/services/data/v59.0/sobjects/${type}/${id}`,
  }).execute(contacts);
}

function lastNames(soql: string): unknown[] {
  return run(soql).records.map((record) => record.LastName);
}

function errorOf(soql: string): SoqlError {
  try {
    run(soql);
  } catch (error) {
    if (error instanceof SoqlError) return error;
    throw error;
  }
  throw new Error(`expected ${soql} to fail`);
}

describe('SOQL subset', () => {
  it('projects the selected fields in order with attributes and canonical field names', () => {
    const result = run("SELECT id, lastname, EMAIL FROM contact WHERE Email = 'ada@example.com'");
    expect(result.totalSize).toBe(1);
    expect(result.records[0]).toEqual({
      attributes: { type: 'Contact', url: `/services/data/v59.0/sobjects/Contact/${contacts[0].Id}` },
      Id: contacts[0].Id,
      LastName: 'Lovelace',
      Email: 'ada@example.com',
    });
    expect(Object.keys(result.records[0])).toEqual(['attributes', 'Id', 'LastName', 'Email']);
  });

  it('compares text case-insensitively, as Salesforce does', () => {
    expect(lastNames("SELECT LastName FROM Contact WHERE Email = 'grace@EXAMPLE.com'")).toEqual(['Hopper']);
  });

  it('filters on SystemModstamp with both datetime literal forms and orders by several fields', () => {
    expect(
      lastNames(
        'SELECT Id, LastName FROM Contact WHERE SystemModstamp >= 2026-01-03T10:00:00Z ORDER BY SystemModstamp DESC, LastName ASC',
      ),
    ).toEqual(['Hopper', 'Hopper', "O'Turing"]);
    expect(
      lastNames(
        'SELECT LastName FROM Contact WHERE SystemModstamp > 2026-01-02T10:00:00.000+0000 ORDER BY Id',
      ),
    ).toEqual(['Hopper', "O'Turing", 'Hopper']);
    expect(
      lastNames('SELECT LastName FROM Contact WHERE SystemModstamp < 2026-01-02T11:30:00+01:00'),
    ).toEqual(['Lovelace']);
  });

  it('supports the keyset-paging query a sync connector sends (OR of a later stamp, or equal stamp and larger Id)', () => {
    const soql = `SELECT Id FROM Contact WHERE SystemModstamp > 2026-01-03T10:00:00Z OR (SystemModstamp = 2026-01-03T10:00:00Z AND Id > '${contacts[1].Id}') ORDER BY SystemModstamp, Id LIMIT 10`;
    expect(run(soql).records.map((record) => record.Id)).toEqual([contacts[2].Id, contacts[3].Id]);
  });

  it('handles IN, NOT IN, LIKE, NOT, null and booleans', () => {
    expect(
      lastNames(
        "SELECT LastName FROM Contact WHERE Email IN ('ada@example.com', 'h2@test.org') ORDER BY LastName",
      ),
    ).toEqual(['Hopper', 'Lovelace']);
    expect(
      lastNames("SELECT LastName FROM Contact WHERE LastName NOT IN ('Hopper') ORDER BY LastName"),
    ).toEqual(['Lovelace', "O'Turing"]);
    expect(lastNames("SELECT LastName FROM Contact WHERE LastName LIKE 'o\\'tur%'")).toEqual(["O'Turing"]);
    expect(lastNames("SELECT LastName FROM Contact WHERE Email LIKE '%@example.co_'")).toHaveLength(2);
    expect(lastNames('SELECT LastName FROM Contact WHERE Email = null')).toEqual(["O'Turing"]);
    expect(lastNames("SELECT LastName FROM Contact WHERE NOT (Email = null OR LastName = 'Hopper')")).toEqual(
      ['Lovelace'],
    );
    expect(lastNames('SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = true')).toEqual(["O'Turing"]);
  });

  it('applies ORDER BY nulls placement, LIMIT and OFFSET', () => {
    expect(lastNames('SELECT LastName FROM Contact ORDER BY FirstName')).toEqual([
      'Hopper',
      'Lovelace',
      "O'Turing",
      'Hopper',
    ]);
    expect(lastNames('SELECT LastName FROM Contact ORDER BY FirstName DESC')).toEqual([
      'Hopper',
      "O'Turing",
      'Lovelace',
      'Hopper',
    ]);
    expect(
      lastNames('SELECT LastName FROM Contact ORDER BY FirstName ASC NULLS LAST LIMIT 2 OFFSET 1'),
    ).toEqual(["O'Turing", 'Hopper']);
  });

  it('answers COUNT() with a size and no records, and follows parent relationships', () => {
    expect(run("SELECT COUNT() FROM Contact WHERE LastName = 'Hopper'")).toEqual({
      totalSize: 2,
      records: [],
    });
    const [withAccount, withoutAccount] = run(
      'SELECT Id, Account.Name FROM Contact ORDER BY Id LIMIT 2',
    ).records;
    expect(withAccount.Account).toEqual({
      attributes: { type: 'Account', url: `/services/data/v59.0/sobjects/Account/${accounts[0].Id}` },
      Name: 'Acme',
    });
    expect(withoutAccount.Account).toBeNull();
  });

  it('matches an 18-character id given in its 15-character form', () => {
    expect(
      lastNames(`SELECT LastName FROM Contact WHERE Id = '${String(contacts[0].Id).slice(0, 15)}'`),
    ).toEqual(['Lovelace']);
  });

  it('evaluates date literals against the sandbox clock', () => {
    expect(lastNames('SELECT LastName FROM Contact WHERE SystemModstamp = TODAY')).toEqual(['Hopper']);
    expect(
      lastNames('SELECT LastName FROM Contact WHERE SystemModstamp = LAST_N_DAYS:66 ORDER BY Id'),
    ).toEqual(['Hopper', "O'Turing", 'Hopper']);
  });

  it('rejects malformed queries with MALFORMED_QUERY and a Salesforce-style caret message', () => {
    const error = errorOf('SELECT Id FROM Contact WHERE');
    expect(error.errorCode).toBe('MALFORMED_QUERY');
    expect(error.message).toContain('ERROR at Row:1:Column:29');
    expect(error.message).toContain('unexpected token: <EOF>');
    expect(
      errorOf("SELECT Id FROM Contact WHERE Email = 'a' AND LastName = 'b' OR Id = null").errorCode,
    ).toBe('MALFORMED_QUERY');
    expect(errorOf("SELECT Id FROM Contact WHERE Email = 'unterminated").errorCode).toBe('MALFORMED_QUERY');
    expect(errorOf('SELECT Id, Id FROM Contact').message).toContain('duplicate field selected: Id');
    expect(errorOf('SELECT Id FROM Contact OFFSET 2001').errorCode).toBe('NUMBER_OUTSIDE_VALID_RANGE');
  });

  it('rejects unknown objects, unknown fields and mistyped filter values like Salesforce', () => {
    expect(errorOf('SELECT Id FROM Contacts').errorCode).toBe('INVALID_TYPE');
    const unknownField = errorOf('SELECT Id, Shoe_Size__c FROM Contact');
    expect(unknownField.errorCode).toBe('INVALID_FIELD');
    expect(unknownField.message).toContain("No such column 'Shoe_Size__c' on entity 'Contact'");
    const quotedDate = errorOf("SELECT Id FROM Contact WHERE SystemModstamp > '2026-01-01T00:00:00Z'");
    expect(quotedDate.errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    expect(quotedDate.message).toContain('must be of type dateTime and should not be enclosed in quotes');
    expect(errorOf("SELECT Id FROM Contact WHERE Id = 'nope'").message).toContain('invalid ID field: nope');
  });

  it('parses string escapes', () => {
    const query = parseSoql("SELECT Id FROM Contact WHERE LastName = 'a\\'b\\\\c\\nd'");
    expect(query.where).toMatchObject({ kind: 'compare', value: { kind: 'string', value: "a'b\\c\nd" } });
  });

  it('round-trips the REST datetime format', () => {
    const ms = parseDateTime('2026-01-01T00:00:00.000+0000');
    expect(ms).toBe(Date.UTC(2026, 0, 1));
    expect(formatDateTime(ms as number)).toBe('2026-01-01T00:00:00.000+0000');
    expect(parseDateTime('2026-13-01T00:00:00Z')).toBeUndefined();
  });
});
