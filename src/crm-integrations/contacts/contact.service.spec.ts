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
    changes.flushInFeedOrder.mockResolvedValue();
    service = new ContactService(contacts, autoMock<TenantService>('tenants'), changes);
  });

  it('stages an entry with the changed fields only, flushed in feed order with the contact', async () => {
    const ada = aContact({ firstName: 'Ada', lastName: 'Lovelace' });
    contacts.findManyByIdsForSync.mockResolvedValue([ada]);
    contacts.findManyByEmailsForSync.mockResolvedValue([]);
    const [result] = await service.applySyncedValuesMany(
      'acme',
      [{ contactId: ada.id, email: ada.email, values: { firstName: 'Augusta', lastName: 'Lovelace' } }],
      origin,
    );
    expect(result).toMatchObject({ ok: true, created: false });
    expect(changes.stage).toHaveBeenCalledWith('acme', {
      contactId: ada.id,
      connectionId: 'conn-1',
      provider: 'hubspot',
      kind: 'updated',
      email: 'ada@example.com',
      fields: ['firstName'],
      values: { firstName: 'Augusta' },
    });
    expect(changes.flushInFeedOrder).toHaveBeenCalledWith('acme');
  });

  it('stages a created contact with every field it got, and nothing for a change that moves nothing', async () => {
    const same = aContact({ email: 'same@example.com', firstName: 'Sam' });
    contacts.findManyByIdsForSync.mockResolvedValue([]);
    contacts.findManyByEmailsForSync.mockResolvedValue([same]);
    contacts.create.mockImplementation((_tenant, email) => aContact({ email }));
    await service.applySyncedValuesMany(
      'acme',
      [
        { email: 'new@example.com', values: { firstName: 'Nia', company: null } },
        { email: 'same@example.com', values: { firstName: 'Sam' } },
      ],
      origin,
    );
    expect(changes.stage).toHaveBeenCalledTimes(1);
    expect(changes.stage.mock.calls[0][1]).toMatchObject({
      kind: 'created',
      email: 'new@example.com',
      fields: ['email', 'firstName'],
      values: { email: 'new@example.com', firstName: 'Nia' },
    });
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
