import { ConflictException, HttpException } from '@nestjs/common';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { autoMock } from '@pm/integration-port/testing';
import { Contact } from '@pm/domain';
import type { AuditService } from '../audit/audit.service';
import type { ContactRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aTenant } from '../testing/entities';
import { ContactBatchService } from './contact-batch.service';

const auth = { actor: 'token:backend', tenantId: 'acme' };

function aContact(email: string, overrides: Partial<Contact> = {}): Contact {
  return Object.assign(new Contact(), { email, customFields: {}, deletedAt: null }, overrides);
}

describe('ContactBatchService', () => {
  let contacts: jest.Mocked<ContactRepository>;
  let tenants: jest.Mocked<TenantService>;
  let audit: jest.Mocked<AuditService>;
  let service: ContactBatchService;

  beforeEach(() => {
    contacts = autoMock<ContactRepository>('contacts');
    tenants = autoMock<TenantService>('tenants');
    audit = autoMock<AuditService>('audit');
    tenants.require.mockResolvedValue(aTenant());
    contacts.flush.mockResolvedValue();
    audit.record.mockResolvedValue();
    service = new ContactBatchService(contacts, tenants, audit);
  });

  it('refuses more than 1,000 records with 413 naming the field, before looking anything up', async () => {
    const error = await service
      .upsert(auth, 'acme', new Array(1001).fill({ email: 'a@b.co' }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpException);
    expect((error as HttpException).getStatus()).toBe(413);
    expect((error as HttpException).getResponse()).toMatchObject({
      invalidParams: [{ name: 'contacts', reason: 'at most 1000 contacts per request' }],
    });
    const deletes = (await service
      .remove(auth, 'acme', new Array(1001).fill('a@b.co'))
      .catch((caught: unknown) => caught)) as HttpException;
    expect(deletes.getStatus()).toBe(413);
    expect(deletes.getResponse()).toMatchObject({ invalidParams: [{ name: 'emails' }] });
    expect(tenants.require).not.toHaveBeenCalled();
  });

  it('updates the contact an e-mail names, creates the others, revives a deleted one, in one flush', async () => {
    const existing = aContact('old@example.com', { firstName: 'Olga' });
    const deleted = aContact('gone@example.com', { deletedAt: new Date('2026-01-01') });
    contacts.findManyByEmailsForSync.mockResolvedValue([existing, deleted]);
    contacts.create.mockImplementation((_tenant, email) => aContact(email));
    const response = await service.upsert(auth, 'acme', [
      { email: 'OLD@example.com', company: 'Acme' },
      { email: 'new@example.com', firstName: 'Nia' },
      { email: 'gone@example.com' },
      { email: 'new@example.com' },
      { email: 'bad' },
    ]);
    expect(contacts.findManyByEmailsForSync).toHaveBeenCalledWith('acme', [
      'old@example.com',
      'new@example.com',
      'gone@example.com',
    ]);
    expect(response.results.map((result) => result.status)).toEqual([
      'updated',
      'created',
      'created',
      'rejected',
      'rejected',
    ]);
    expect(response.results[3].reason).toBe('email: the same e-mail is already at index 1 of this batch');
    expect(existing).toMatchObject({ firstName: 'Olga', company: 'Acme' });
    expect(deleted.deletedAt).toBeNull();
    expect(contacts.create).toHaveBeenCalledTimes(1);
    expect(contacts.flush).toHaveBeenCalledTimes(1);
    expect(audit.record).toHaveBeenCalledWith(auth, {
      tenantId: 'acme',
      action: 'contacts.batch_upserted',
      targetType: 'contacts',
      after: { created: 2, updated: 1, rejected: 2 },
    });
  });

  it('deletes live contacts by e-mail and says not_found for unknown or already deleted ones', async () => {
    const live = aContact('live@example.com');
    const deleted = aContact('gone@example.com', { deletedAt: new Date('2026-01-01') });
    contacts.findManyByEmailsForSync.mockResolvedValue([live, deleted]);
    const response = await service.remove(auth, 'acme', [
      'Live@Example.com',
      'gone@example.com',
      'who@example.com',
      7,
      'live@example.com',
    ]);
    expect(response).toMatchObject({ deleted: 2, notFound: 2, rejected: 1 });
    expect(response.results.map((result) => result.status)).toEqual([
      'deleted',
      'not_found',
      'not_found',
      'rejected',
      'deleted',
    ]);
    expect(live.deletedAt).toBeInstanceOf(Date);
    expect(deleted.deletedAt).toEqual(new Date('2026-01-01'));
    expect(contacts.flush).toHaveBeenCalledTimes(1);
  });

  it('answers 409 when a concurrent request created one of the e-mails first (nothing written)', async () => {
    contacts.findManyByEmailsForSync.mockResolvedValue([]);
    contacts.create.mockImplementation((_tenant, email) => aContact(email));
    contacts.flush.mockRejectedValue(new UniqueConstraintViolationException(new Error('duplicate key')));
    await expect(service.upsert(auth, 'acme', [{ email: 'race@example.com' }])).rejects.toThrow(
      ConflictException,
    );
    expect(audit.record).not.toHaveBeenCalled();
  });
});
