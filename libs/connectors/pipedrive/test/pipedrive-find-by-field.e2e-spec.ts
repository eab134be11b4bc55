import { v1, v2 } from 'pipedrive';
import { CrmErrorCode, type CrmSession } from '@pm/integration-port';
import { crmFailure } from '@pm/integration-port/testing';
import { startPipedriveTestBed, type PipedriveTestBed } from '../src/testing';

/** findByField against the Pipedrive sandbox: a custom field and persons made with the official SDK. */
describe('Pipedrive findByField (exact item search, then the matches read and checked)', () => {
  let bed: PipedriveTestBed;
  let session: CrmSession;
  let persons: v2.PersonsApi;
  let personFields: v1.PersonFieldsApi;

  beforeAll(async () => {
    bed = await startPipedriveTestBed();
    session = await bed.session();
    const accessToken = () => session.accessToken;
    persons = new v2.PersonsApi(new v2.Configuration({ accessToken, basePath: `${bed.baseUrl}/api/v2` }));
    personFields = new v1.PersonFieldsApi(
      new v1.Configuration({ accessToken, basePath: `${bed.baseUrl}/v1` }),
    );
  });

  afterAll(() => bed.close());

  beforeEach(() => bed.sandbox.reset({ clock: true }));

  async function addPerson(name: string, customFields: Record<string, string>): Promise<string> {
    const added = await persons.addPerson({
      AddPersonRequest: {
        name,
        emails: [{ value: `${name.toLowerCase().replace(/\W+/g, '-')}@example.com`, primary: true }],
        custom_fields: customFields,
      },
    });
    return String(added.data!.id);
  }

  it('finds persons whose custom field holds a value, one search per value, keeping only real holders', async () => {
    const field = await personFields.addPersonField({
      CreateFieldRequest: { name: 'Member number', field_type: 'varchar' },
    });
    const member = field.data!.key!;
    const linkedIn = bed.sandbox.personFieldKey('LinkedIn profile');
    const first = await addPerson('Ann First', { [member]: 'M-1' });
    const shared = await addPerson('Bo Shared', { [member]: 'M-2' });
    const sharedToo = await addPerson('Cy Shared', { [member]: 'M-2' });
    // Found by the search (it cannot tell custom fields apart, nor case), but not holders of M-1 in this field.
    await addPerson('Di Elsewhere', { [linkedIn]: 'M-1' });
    await addPerson('Ed Upper', { [member]: 'm-1' });
    await addPerson('Flo Longer', { [member]: 'M-1 and more' });

    bed.sandbox.counters.reset();
    const found = await bed.connector.findByField(session, {
      object: 'persons',
      field: member,
      values: ['M-1', 'M-2', 'M-nobody'],
      fields: ['name'],
    });
    expect(found.map((record) => record.id)).toEqual([first, shared, sharedToo]);
    expect(found[0].fields).toEqual({ [member]: 'M-1', name: 'Ann First' });
    expect(bed.sandbox.counters.count('GET /api/v2/persons/search')).toBe(3);
    expect(bed.sandbox.counters.count('GET /api/v2/persons')).toBe(1);
  });

  it('refuses a field the item search cannot look in, naming it, before any request', async () => {
    bed.sandbox.counters.reset();
    const jobTitle = await crmFailure(
      bed.connector.findByField(session, { object: 'persons', field: 'job_title', values: ['CEO'] }),
    );
    expect(jobTitle).toMatchObject({ code: CrmErrorCode.VALIDATION_FAILED, field: 'job_title' });
    expect(jobTitle.message).toContain('Pipedrive cannot search persons by job_title');
    const activities = await crmFailure(
      bed.connector.findByField(session, { object: 'activities', field: 'subject', values: ['Call'] }),
    );
    expect(activities).toMatchObject({ code: CrmErrorCode.VALIDATION_FAILED, field: 'subject' });
    expect(bed.sandbox.counters.snapshot().total).toBe(0);
  });
});
