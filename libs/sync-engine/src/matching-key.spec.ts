import type { FieldMappingEntry, ObjectMapping } from '@pm/integration-port';
import type { ConnectionSettings } from '@pm/domain/model';
import type { FieldMappingSource } from './field-mapping';
import { inMemorySyncHarness } from './testing';

/**
 * A mapping matching on a key of its own (a member id kept in a contact custom field and in a CRM custom field),
 * run against the in-memory CRM: records are linked by the key, not duplicated, in both directions; a record
 * without a key value falls back to the e-mail; two records holding one key value are refused.
 */
const email: FieldMappingEntry = { local: 'email', crm: 'email', direction: 'both', codec: 'email' };
const firstName: FieldMappingEntry = {
  local: 'firstName',
  crm: 'firstname',
  direction: 'both',
  codec: 'text',
};
const memberId: FieldMappingEntry = {
  local: 'customFields.memberId',
  crm: 'external_id',
  direction: 'both',
  codec: 'text',
};

const keyed: ObjectMapping = {
  object: 'contacts',
  emailField: 'email',
  matchKey: { local: 'customFields.memberId', crm: 'external_id' },
  fields: [email, firstName, memberId],
};
const source = (mapping: ObjectMapping): FieldMappingSource => ({
  mappingFor: async (_connection, object) => (object === 'contacts' ? mapping : undefined),
});
const harness = (settings: Partial<ConnectionSettings> = {}, mapping: ObjectMapping = keyed) =>
  inMemorySyncHarness(settings, { mappings: source(mapping) });

describe('matching on a key other than the e-mail', () => {
  it('outbound: links the CRM record holding the contact key value, though its e-mail differs', async () => {
    const h = harness({ direction: 'to_crm' });
    const record = h.crm.createRecord('contacts', {
      email: 'old@example.com',
      external_id: 'M-1',
      firstname: 'Old',
    });
    h.locals.add('new@example.com', { firstName: 'Nina', 'customFields.memberId': 'M-1' });

    const run = await h.run();

    expect(run.status).toBe('succeeded');
    expect(h.crm.listRecords('contacts')).toHaveLength(1);
    expect(h.crm.getRecord('contacts', record.id)?.fields).toMatchObject({
      email: 'new@example.com',
      firstname: 'Nina',
      external_id: 'M-1',
    });
    expect(run.counts.to_crm.contacts).toMatchObject({ created: 0, updated: 1 });
    expect(h.links.links).toMatchObject([
      { crmId: record.id, localId: h.locals.byEmail('new@example.com')?.id },
    ]);
    expect(h.counting.calls.findByField).toBe(1);
  });

  it('inbound: links the contact holding the record key value instead of creating a second contact', async () => {
    const h = harness({ direction: 'from_crm' });
    const contact = h.locals.add('new@example.com', { 'customFields.memberId': 'M-2' });
    const record = h.crm.createRecord('contacts', {
      email: 'crm@example.com',
      external_id: 'M-2',
      firstname: 'Cleo',
    });

    const run = await h.run();

    expect(run.status).toBe('succeeded');
    expect(h.locals.contacts).toHaveLength(1);
    expect(h.links.links).toMatchObject([{ crmId: record.id, localId: contact.id }]);
    // The mapping's e-mail entry flows both ways: the CRM's e-mail is now the contact's.
    expect(h.locals.contacts[0]).toMatchObject({ email: 'crm@example.com' });
    expect(h.locals.contacts[0].values).toMatchObject({ firstName: 'Cleo', 'customFields.memberId': 'M-2' });
    expect(run.counts.from_crm.contacts).toMatchObject({ created: 0, updated: 1 });
  });

  it('a record without a key value is matched by e-mail; one holding another key value is refused', async () => {
    const h = harness();
    const byEmail = h.crm.createRecord('contacts', { email: 'nokey@example.com', firstname: 'Nokey' });
    const other = h.crm.createRecord('contacts', { email: 'clash@example.com', external_id: 'M-7' });
    h.locals.add('nokey@example.com', { firstName: 'Nokey' });
    h.locals.add('clash@example.com', { 'customFields.memberId': 'M-8' });
    h.locals.add('fresh@example.com', { 'customFields.memberId': 'M-9' });

    const run = await h.run();

    expect(run.status).toBe('succeeded');
    const records = h.crm.listRecords('contacts');
    // nokey linked by e-mail; fresh created with its key; clash neither linked nor created.
    expect(records.map((r) => r.fields.email).sort()).toEqual([
      'clash@example.com',
      'fresh@example.com',
      'nokey@example.com',
    ]);
    expect(h.crmContact('fresh@example.com')?.fields.external_id).toBe('M-9');
    const linkOf = (crmId: string) => h.links.links.find((link) => link.crmId === crmId);
    expect(linkOf(byEmail.id)?.localId).toBe(h.locals.byEmail('nokey@example.com')?.id);
    expect(linkOf(other.id)).toBeUndefined();
    expect(h.locals.byEmail('clash@example.com')?.values['customFields.memberId']).toBe('M-8');
    expect(h.log.messages()).toContain(
      'Not linked: contacts 2 in In-memory CRM matches clash@example.com by e-mail, but its external_id "M-7" differs from the contact\'s "M-8"',
    );
  });

  it('outbound: two CRM records with one key value are skipped and logged, never merged or duplicated', async () => {
    const h = harness({ direction: 'to_crm' });
    const first = h.crm.createRecord('contacts', { email: 'a@example.com', external_id: 'M-5' });
    const second = h.crm.createRecord('contacts', { email: 'b@example.com', external_id: 'M-5' });
    h.locals.add('c@example.com', { 'customFields.memberId': 'M-5' });

    const run = await h.run();

    expect(h.crm.listRecords('contacts')).toHaveLength(2);
    expect(h.links.links).toEqual([]);
    expect(run.counts.to_crm.contacts.skipped).toBe(1);
    expect(h.log.messages()).toContain(
      `Duplicate in In-memory CRM: external_id "M-5" is on 2 contacts records (${first.id}, ${second.id}); not merged`,
    );
  });

  it('inbound: a second CRM record with a linked contact key value is skipped as a duplicate', async () => {
    const h = harness({ direction: 'from_crm' });
    const contact = h.locals.add('c@example.com', { 'customFields.memberId': 'M-6' });
    const first = h.crm.createRecord('contacts', { email: 'a@example.com', external_id: 'M-6' });
    const second = h.crm.createRecord('contacts', { email: 'b@example.com', external_id: 'M-6' });

    const run = await h.run();

    expect(h.links.links).toMatchObject([{ crmId: first.id, localId: contact.id }]);
    expect(h.locals.contacts).toHaveLength(1);
    expect(run.counts.from_crm.contacts.skipped).toBe(1);
    expect(h.log.messages()).toContain(
      `Duplicate in In-memory CRM: external_id "M-6" is on 2 contacts records (${first.id}, ${second.id}); not merged`,
    );
  });

  it('outbound: a record the key finds that is linked to another contact is refused', async () => {
    const h = harness({ direction: 'to_crm' });
    h.locals.add('owner@example.com', { 'customFields.memberId': 'M-3' });
    await h.run();
    const [record] = h.crm.listRecords('contacts');
    h.locals.add('second@example.com', { 'customFields.memberId': 'M-3' });

    await h.run();

    expect(h.crm.listRecords('contacts')).toHaveLength(1);
    expect(h.links.links).toMatchObject([{ localId: h.locals.byEmail('owner@example.com')?.id }]);
    expect(h.log.messages()).toContain(
      `Duplicate: second@example.com matches contacts ${record.id} in In-memory CRM, which is linked to another contact; not merged`,
    );
  });

  it('the default key (no matchKey) looks records up by e-mail only', async () => {
    const h = harness({ direction: 'to_crm' }, { ...keyed, matchKey: undefined });
    h.crm.createRecord('contacts', { email: 'old@example.com', external_id: 'M-1' });
    h.locals.add('new@example.com', { 'customFields.memberId': 'M-1' });

    await h.run();

    expect(h.counting.calls.findByField).toBe(0);
    expect(h.counting.calls.findByEmail).toBe(1);
    expect(h.crm.listRecords('contacts')).toHaveLength(2);
  });
});
