import { SandboxClock } from '../kit/clock';
import { checksumSuffix, isValidId, SalesforceIdGenerator, to18 } from './ids';
import { SalesforceApiError, SalesforceOrg } from './org';
import { SalesforceSchema } from './schema';

function newOrg(): SalesforceOrg {
  const clock = new SandboxClock({ start: '2026-02-01T10:00:00Z', frozen: true });
  return new SalesforceOrg({ clock, schema: new SalesforceSchema() });
}

function codes(result: { errors: Array<{ statusCode: string }> }): string[] {
  return result.errors.map((error) => error.statusCode);
}

describe('Salesforce ids', () => {
  it('issues 18-character ids with the key prefix and a checksum suffix matching the upper-case letters', () => {
    const ids = new SalesforceIdGenerator();
    const first = ids.next('003');
    const second = ids.next('003');
    expect(first).toMatch(/^003[a-zA-Z0-9]{15}$/);
    expect(second).not.toBe(first);
    expect(ids.next('00Q').startsWith('00Q')).toBe(true);
    expect(isValidId(first)).toBe(true);
    expect(isValidId(first.slice(0, 15))).toBe(true);
    expect(to18(first.slice(0, 15))).toBe(first);
    // Each suffix letter encodes which of five characters are upper case: "00Q8d" → bit 2 → 'E'.
    expect(checksumSuffix('00Q8d00000000aB')).toBe('EAQ');
    expect(isValidId('0038d0000000001XXX')).toBe(false);
  });
});

describe('SalesforceOrg DML semantics', () => {
  it('deletes an account’s contacts with it, as Salesforce does; other contacts stay', () => {
    const org = newOrg();
    const [account] = org.createMany([{ type: 'Account', fields: { Name: 'Acme' } }], false);
    const [other] = org.createMany([{ type: 'Account', fields: { Name: 'Globex' } }], false);
    const [member, bystander] = org.createMany(
      [
        { type: 'Contact', fields: { LastName: 'Member', AccountId: account.id } },
        { type: 'Contact', fields: { LastName: 'Bystander', AccountId: other.id } },
      ],
      false,
    );
    org.deleteInCrm('Account', account.id as string);
    expect(org.records('Contact').map((contact) => contact.id)).toEqual([bystander.id]);
    expect(member.success).toBe(true);
  });

  it('rejects unknown fields for the whole request and read-only fields per record', () => {
    const org = newOrg();
    expect(() => org.createMany([{ type: 'Contact', fields: { LastName: 'A', Shoe__c: 1 } }], false)).toThrow(
      SalesforceApiError,
    );
    const [readOnly] = org.createMany([{ type: 'Contact', fields: { LastName: 'A', Name: 'A B' } }], false);
    expect(readOnly).toEqual({
      success: false,
      errors: [expect.objectContaining({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['Name'] })],
    });
    const [tooLong] = org.createMany([{ type: 'Contact', fields: { LastName: 'x'.repeat(81) } }], false);
    expect(codes(tooLong)).toEqual(['STRING_TOO_LONG']);
    expect(() =>
      org.createMany([{ type: 'Contact', fields: { LastName: 'A', HasOptedOutOfEmail: 'yes' } }], false),
    ).toThrow(expect.objectContaining({ errorCode: 'JSON_PARSER_ERROR' }));
  });

  it('sets system fields, derived Name, defaults and bumps SystemModstamp on update', () => {
    const org = newOrg();
    const [created] = org.createMany(
      [{ type: 'Lead', fields: { LastName: 'Hopper', FirstName: 'Grace', Company: 'Navy', Email: '' } }],
      false,
    );
    const lead = org.findById(created.id as string)?.record.fields;
    expect(lead).toMatchObject({
      Name: 'Grace Hopper',
      Status: 'Open - Not Contacted',
      Email: null,
      IsDeleted: false,
      OwnerId: org.userId,
      CreatedDate: '2026-02-01T10:00:00.000+0000',
      SystemModstamp: '2026-02-01T10:00:00.000+0000',
    });
    org.clock.advance(5_000);
    org.updateMany([{ type: 'Lead', id: created.id, fields: { FirstName: 'Amazing Grace' } }], false);
    expect(org.findById(created.id as string)?.record.fields).toMatchObject({
      Name: 'Amazing Grace Hopper',
      CreatedDate: '2026-02-01T10:00:00.000+0000',
      SystemModstamp: '2026-02-01T10:00:05.000+0000',
    });
  });

  it('rolls back an update batch with allOrNone and reports deleted records as ENTITY_IS_DELETED', () => {
    const org = newOrg();
    const [a, b] = org.stage('Contact', [{ LastName: 'A' }, { LastName: 'B' }]);
    const results = org.updateMany(
      [
        { type: 'Contact', id: a.id, fields: { Title: 'Changed' } },
        { type: 'Contact', id: b.id, fields: { LastName: null } },
      ],
      true,
    );
    expect(results.map(codes)).toEqual([['ALL_OR_NONE_OPERATION_ROLLED_BACK'], ['REQUIRED_FIELD_MISSING']]);
    expect(org.findById(a.id)?.record.fields.Title).toBeNull();

    org.deleteInCrm('Contact', b.id);
    const [deleted] = org.updateMany([{ type: 'Contact', id: b.id, fields: { Title: 'x' } }], false);
    expect(deleted).toMatchObject({
      id: b.id,
      success: false,
      errors: [{ statusCode: 'ENTITY_IS_DELETED' }],
    });
    const [unknown] = org.deleteMany(['0038d0000000zzzAAA'], false);
    expect(codes(unknown)).toEqual(['INVALID_CROSS_REFERENCE_KEY']);
  });

  it('rejects the same external id twice in one upsert batch and a reference to a missing record', () => {
    const org = newOrg();
    const results = org.upsertMany(
      'Contact',
      'PenguinMails_Id__c',
      [
        { value: 'pm-9', fields: { PenguinMails_Id__c: 'pm-9', LastName: 'One' } },
        { value: 'PM-9', fields: { PenguinMails_Id__c: 'PM-9', LastName: 'Two' } },
        {
          value: 'pm-10',
          fields: { PenguinMails_Id__c: 'pm-10', LastName: 'Ten', AccountId: '0018d0000000zzzAAA' },
        },
      ],
      false,
    );
    expect(results.map(codes)).toEqual([
      ['DUPLICATE_EXTERNAL_ID'],
      ['DUPLICATE_EXTERNAL_ID'],
      ['INVALID_CROSS_REFERENCE_KEY'],
    ]);
    expect(org.records('Contact')).toHaveLength(0);
  });

  it('serves the replication feeds from SystemModstamp and tombstones', () => {
    const org = newOrg();
    const [kept, removed] = org.stage('Contact', [{ LastName: 'Kept' }, { LastName: 'Removed' }]);
    org.clock.advance(120_000);
    org.editInCrm('Contact', kept.id, { Title: 'Edited' });
    org.deleteInCrm('Contact', removed.id);
    const from = Date.parse('2026-02-01T10:01:00Z');
    const to = Date.parse('2026-02-01T10:05:00Z');
    expect(org.updatedIds('Contact', from, to).ids).toEqual([kept.id]);
    expect(org.deletedRecords('Contact', from, to).deletedRecords).toEqual([
      { id: removed.id, deletedDate: '2026-02-01T10:02:00.000+0000' },
    ]);
  });
});

describe('SalesforceOrg queries by a matching key', () => {
  const QUERY = { version: '62.0', includeDeleted: false, pageSize: 2000 };
  const ids = (page: { records: Array<Record<string, unknown>> }) => page.records.map((row) => row.Id);

  it('answers WHERE <external id> IN (…) case-insensitively, and follows the value when it changes', () => {
    const org = newOrg();
    const [first, second, other] = org.createMany(
      [
        { type: 'Contact', fields: { LastName: 'One', PenguinMails_Id__c: 'Key-1' } },
        { type: 'Contact', fields: { LastName: 'Two', PenguinMails_Id__c: 'key-2' } },
        { type: 'Contact', fields: { LastName: 'Other', PenguinMails_Id__c: 'key-3' } },
      ],
      false,
    );
    const byKeys = (keys: string) =>
      ids(org.query(`SELECT Id FROM Contact WHERE PenguinMails_Id__c IN (${keys}) ORDER BY Id`, QUERY));
    expect(byKeys("'key-1', 'KEY-2', 'key-9'")).toEqual([first.id, second.id]);
    org.editInCrm('Contact', first.id as string, { PenguinMails_Id__c: 'key-7' });
    expect(byKeys("'key-1'")).toEqual([]);
    expect(byKeys("'key-7'")).toEqual([first.id]);
    // The rest of the WHERE still applies to what the key finds.
    expect(
      ids(
        org.query(
          "SELECT Id FROM Contact WHERE PenguinMails_Id__c IN ('key-2', 'key-3') AND LastName = 'Other'",
          QUERY,
        ),
      ),
    ).toEqual([other.id]);
    org.deleteInCrm('Contact', second.id as string);
    expect(byKeys("'key-2'")).toEqual([]);
  });

  it('refuses a filter on a long text area, as Salesforce does (a short one, like MailingStreet, is filterable)', () => {
    const org = newOrg();
    expect(() => org.query("SELECT Id FROM Contact WHERE Description IN ('x')", QUERY)).toThrow(
      "field 'Description' can not be filtered in a query call",
    );
    expect(org.query("SELECT Id FROM Contact WHERE MailingStreet = 'x'", QUERY).records).toEqual([]);
  });
});
