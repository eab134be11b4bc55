import { Client } from '@hubspot/api-client';
import {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties';
import type { CrmSession } from '@pm/integration-port';
import { startHubSpotTestBed, type HubSpotTestBed } from '../src/testing';

const SEARCH = 'POST /crm/v3/objects/contacts/search';

/** findByField against the HubSpot sandbox: a custom property and contacts made with the official SDK. */
describe('HubSpot findByField (CRM search, IN on a custom property)', () => {
  let bed: HubSpotTestBed;
  let session: CrmSession;
  let sdk: Client;

  beforeAll(async () => {
    bed = await startHubSpotTestBed();
    session = await bed.session();
    sdk = new Client({ accessToken: session.accessToken, basePath: bed.baseUrl, numberOfApiCallRetries: 0 });
  });

  afterAll(() => bed.close());

  beforeEach(async () => {
    bed.sandbox.reset();
    await sdk.crm.properties.coreApi.create('contacts', {
      name: 'member_number',
      label: 'Member number',
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: 'contactinformation',
    });
  });

  /** Contacts created through the SDK's batch create, 100 a call; their ids in order. */
  async function createContacts(properties: Record<string, string>[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < properties.length; start += 100) {
      const batch = properties.slice(start, start + 100);
      const created = await sdk.crm.contacts.batchApi.create({
        inputs: batch.map((props) => ({ properties: props, associations: [] })),
      });
      const byEmail = new Map(created.results.map((result) => [result.properties.email, result.id]));
      ids.push(...batch.map((props) => byEmail.get(props.email) as string));
    }
    return ids;
  }

  it('finds 150 contacts by a custom property in two searches of 100 values, all holders of a shared value', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `M-${i}`);
    const ids = await createContacts([
      ...keys.map((key, i) => ({ email: `member-${i}@example.com`, member_number: key })),
      // A second holder of M-3, one holding it only in another property, and one in another case.
      { email: 'member-3-again@example.com', member_number: 'M-3' },
      { email: 'named@example.com', firstname: 'M-4' },
      { email: 'lower@example.com', member_number: 'm-5' },
    ]);
    bed.sandbox.counters.reset();
    const found = await bed.connector.findByField(session, {
      object: 'contacts',
      field: 'member_number',
      values: [...keys, 'M-nobody'],
      fields: ['email'],
    });
    expect(new Set(found.map((record) => record.id))).toEqual(new Set([...ids.slice(0, 150), ids[150]]));
    expect(found.find((record) => record.id === ids[150])?.fields).toMatchObject({
      email: 'member-3-again@example.com',
      member_number: 'M-3',
    });
    expect(bed.sandbox.counters.count(SEARCH)).toBe(2);
    expect(bed.sandbox.counters.snapshot().total).toBe(2);
  });

  it('charges the look-up to the search limit, one request per 100 values', () => {
    const capabilities = bed.connector.capabilities();
    expect(capabilities.requestCounts?.findByField).toEqual({ itemsPerRequest: 100 });
    const searchLimit = capabilities.rateLimits.find((limit) => limit.governs?.includes('findByField'));
    expect(searchLimit).toMatchObject({ kind: 'window', limit: 5, windowMs: 1000 });
  });
});
