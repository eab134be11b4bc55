import { Connection } from 'jsforce';
import { CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import type { SalesforceSandbox } from '@pm/sandboxes';
import type { SalesforceConnector } from '../src';
import { DEFAULT_API_VERSION } from '../src/config';
import { connect, connectorFor, EXTERNAL_KEY_FIELD, startSalesforceSandbox } from '../src/testing';

const QUERY = 'GET /services/data/:version/query';

/** findByField against the Salesforce sandbox: records made with jsforce, found by the connector. */
describe('Salesforce findByField (SOQL IN on a custom field)', () => {
  let sandbox: SalesforceSandbox;
  let connector: SalesforceConnector;
  let session: CrmSession;
  let jsforce: Connection;

  beforeAll(async () => {
    sandbox = await startSalesforceSandbox();
    connector = connectorFor(sandbox);
    session = await connect(sandbox, connector);
    jsforce = new Connection({
      instanceUrl: session.instanceUrl,
      accessToken: session.accessToken,
      version: DEFAULT_API_VERSION,
    });
  });

  afterAll(() => sandbox.stop());

  beforeEach(() => sandbox.reset());

  /** Contacts created through jsforce (sObject Collections), each with its external key; their ids in order. */
  async function createContacts(keys: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < keys.length; start += 200) {
      const results = await jsforce.sobject('Contact').create(
        keys.slice(start, start + 200).map((key, index) => ({
          LastName: `Keyed ${start + index}`,
          Email: `keyed-${start + index}@example.com`,
          [EXTERNAL_KEY_FIELD]: key,
        })),
        { allOrNone: true },
      );
      for (const result of results) {
        if (!result.success) throw new Error(JSON.stringify(result.errors));
        ids.push(result.id);
      }
    }
    return ids;
  }

  it('finds 250 contacts by their custom key in three queries of at most 100 values, quotes and backslashes escaped', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => (i === 7 ? `O'Brien\\${i}` : `ext-${i}`));
    const ids = await createContacts([...keys, 'ext-not-asked']);
    sandbox.counters.reset();
    const found = await connector.findByField(session, {
      object: 'Contact',
      field: EXTERNAL_KEY_FIELD,
      values: [...keys, 'ext-nobody'],
      fields: ['LastName'],
    });
    expect(new Set(found.map((record) => record.id))).toEqual(new Set(ids.slice(0, 250)));
    expect(found.find((record) => record.id === ids[7])?.fields).toMatchObject({
      [EXTERNAL_KEY_FIELD]: "O'Brien\\7",
      LastName: 'Keyed 7',
    });
    expect(sandbox.counters.count(QUERY)).toBe(3);
    // A describe told the connector the field's type; it is kept, so a second look-up costs its query alone.
    sandbox.counters.reset();
    await connector.findByField(session, { object: 'Contact', field: EXTERNAL_KEY_FIELD, values: ['ext-1'] });
    expect(sandbox.counters.snapshot().total).toBe(1);
  });

  it('splits long values over more queries so no query URL passes the limit', async () => {
    // 80 characters that URL-encode to six each: 100 of them in one query would be a 48 KB URL.
    const keys = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'é'.repeat(77)}`);
    const ids = await createContacts(keys);
    sandbox.counters.reset();
    const found = await connector.findByField(session, {
      object: 'Contact',
      field: EXTERNAL_KEY_FIELD,
      values: keys,
    });
    expect(new Set(found.map((record) => record.id))).toEqual(new Set(ids));
    expect(sandbox.counters.count(QUERY)).toBeGreaterThan(4);
  });

  it('refuses a field SOQL cannot filter on, or that Contact lacks, naming it, before any query', async () => {
    sandbox.counters.reset();
    const longText = await crmFailure(
      connector.findByField(session, { object: 'Contact', field: 'Description', values: ['x'] }),
    );
    expect(longText).toMatchObject({ code: CrmErrorCode.VALIDATION_FAILED, field: 'Description' });
    expect(longText.message).toContain('cannot filter Contact on Description');
    const unknown = await crmFailure(
      connector.findByField(session, { object: 'Contact', field: 'Shoe_Size__c', values: ['x'] }),
    );
    expect(unknown).toMatchObject({ code: CrmErrorCode.VALIDATION_FAILED, field: 'Shoe_Size__c' });
    expect(sandbox.counters.count(QUERY)).toBe(0);
  });
});
