import { autoMock } from '@pm/integration-port/testing';
import { Contact } from '@pm/domain';
import type { ContactChangeRepository, ContactRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { ContactService } from './contact.service';

const origin = { connectionId: 'conn-1', provider: 'hubspot' };

function aContact(overrides: Partial<Contact> = {}): Contact {
  return Object.assign(
    new Contact(),
    { email: 'ada@example.com', customFields: {}, deletedAt: null },
    overrides,
  );
}

/** What sync writes into the change feed: only CRM-side changes, naming the fields that moved. */
describe('ContactService change feed entries', () => {
  let contacts: jest.Mocked<ContactRepository>;
  let changes: jest.Mocked<ContactChangeRepository>;
  let service: ContactService;

  beforeEach(() => {
    contacts = autoMock<ContactRepository>('contacts');
    changes = autoMock<ContactChangeRepository>('changes');
    changes.stage.mockReturnValue();
    // The flush runs the page's native inserts under the feed lock, as the repository does.
    changes.flushInFeedOrder.mockImplementation(async (_tenant, inTransaction) => {
      await inTransaction?.();
    });
    changes.insertMany.mockResolvedValue();
    contacts.insertBuilt.mockResolvedValue();
    contacts.build.mockImplementation((email) => aContact({ email }));
    service = new ContactService(contacts, autoMock<TenantService>('tenants'), changes);
  });

  it('writes a page’s entries with the changed fields only, in feed order with the contacts', async () => {
    const ada = aContact({ firstName: 'Ada', lastName: 'Lovelace' });
    contacts.findManyByIdsForSync.mockResolvedValue([ada]);
    contacts.findManyByEmailsForSync.mockResolvedValue([]);
    const [result] = await service.applySyncedValuesMany(
      'acme',
      [{ contactId: ada.id, email: ada.email, values: { firstName: 'Augusta', lastName: 'Lovelace' } }],
      origin,
    );
    expect(result).toMatchObject({ ok: true, created: false });
    expect(changes.insertMany).toHaveBeenCalledWith('acme', [
      {
        contactId: ada.id,
        connectionId: 'conn-1',
        provider: 'hubspot',
        kind: 'updated',
        email: 'ada@example.com',
        fields: ['firstName'],
        values: { firstName: 'Augusta' },
      },
    ]);
    expect(changes.flushInFeedOrder).toHaveBeenCalledWith('acme', expect.any(Function));
    expect(contacts.insertBuilt).toHaveBeenCalledWith('acme', []);
  });

  it('inserts a created contact with an entry of every field it got, and nothing for a change that moves nothing', async () => {
    const same = aContact({ email: 'same@example.com', firstName: 'Sam' });
    contacts.findManyByIdsForSync.mockResolvedValue([]);
    contacts.findManyByEmailsForSync.mockResolvedValue([same]);
    const [created] = await service.applySyncedValuesMany(
      'acme',
      [
        { email: 'new@example.com', values: { firstName: 'Nia', company: null } },
        { email: 'same@example.com', values: { firstName: 'Sam' } },
      ],
      origin,
    );
    const [[, contactsInserted]] = contacts.insertBuilt.mock.calls;
    expect(contactsInserted).toEqual([
      expect.objectContaining({ email: 'new@example.com', firstName: 'Nia' }),
    ]);
    expect(created).toMatchObject({ ok: true, created: true, contact: contactsInserted[0] });
    const [[, entries]] = changes.insertMany.mock.calls;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'created',
      contactId: contactsInserted[0].id,
      email: 'new@example.com',
      fields: ['email', 'firstName'],
      values: { email: 'new@example.com', firstName: 'Nia' },
    });
    expect(changes.stage).not.toHaveBeenCalled();
  });

  it('without an origin (not a CRM change) stages nothing and flushes plainly', async () => {
    const ada = aContact();
    contacts.findByIdIncludingDeleted.mockResolvedValue(ada);
    contacts.flush.mockResolvedValue();
    await service.applySyncedValues('acme', {
      contactId: ada.id,
      email: ada.email,
      values: { title: 'CTO' },
    });
    expect(changes.stage).not.toHaveBeenCalled();
    expect(contacts.flush).toHaveBeenCalledTimes(1);
  });

  it('records a CRM-side deletion as a deleted entry', async () => {
    const ada = aContact();
    contacts.findByIdIncludingDeleted.mockResolvedValue(ada);
    await service.markDeletedBySync('acme', ada.id, origin);
    expect(ada.deletedAt).toBeInstanceOf(Date);
    expect(changes.stage).toHaveBeenCalledWith(
      'acme',
      expect.objectContaining({ kind: 'deleted', fields: [] }),
    );
    expect(changes.flushInFeedOrder).toHaveBeenCalledWith('acme');
  });
});
