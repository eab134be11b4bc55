import { HttpException, NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import { ContactChange } from '@pm/domain';
import type { ContactChangeRepository, RetentionRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aTenant } from '../testing/entities';
import { ContactChangeFeedService, decodeFeedCursor, encodeFeedCursor } from './contact-change-feed.service';

const auth = { actor: 'token:backend', tenantId: 'acme' };

function aChange(id: string): ContactChange {
  return Object.assign(new ContactChange(), {
    id,
    contactId: '6d7e5b0c-1f1f-4a4a-8b8b-123456789012',
    connectionId: 'c0c0c0c0-1f1f-4a4a-8b8b-123456789012',
    provider: 'hubspot',
    kind: 'updated',
    email: 'a@example.com',
    fields: ['firstName'],
    values: { firstName: 'Ada' },
    occurredAt: new Date('2026-12-05T10:00:00Z'),
  });
}

describe('ContactChangeFeedService', () => {
  let changes: jest.Mocked<ContactChangeRepository>;
  let tenants: jest.Mocked<TenantService>;
  let retention: jest.Mocked<RetentionRepository>;
  let service: ContactChangeFeedService;

  beforeEach(() => {
    changes = autoMock<ContactChangeRepository>('changes');
    tenants = autoMock<TenantService>('tenants');
    tenants.require.mockResolvedValue(aTenant());
    retention = autoMock<RetentionRepository>('retention');
    retention.feedDeletedThrough.mockResolvedValue('0');
    service = new ContactChangeFeedService(changes, retention, tenants);
  });

  it('pages from the cursor, asking one more to tell whether more wait; the cursor names the last entry', async () => {
    changes.page.mockResolvedValue([aChange('11'), aChange('12'), aChange('13')]);
    const page = await service.page(auth, 'acme', { cursor: encodeFeedCursor('10'), limit: 2 });
    expect(changes.page).toHaveBeenCalledWith('acme', '10', 3);
    expect(page.data.map((change) => change.sequence)).toEqual(['11', '12']);
    expect(page.data[0]).toMatchObject({ kind: 'updated', fields: ['firstName'], provider: 'hubspot' });
    expect(page).toMatchObject({ nextCursor: encodeFeedCursor('12'), hasMore: true });
  });

  it('starts at the beginning without a cursor and at the newest entry with cursor=now; an empty page keeps it', async () => {
    changes.page.mockResolvedValue([]);
    expect(await service.page(auth, 'acme', {})).toEqual({
      data: [],
      nextCursor: encodeFeedCursor('0'),
      hasMore: false,
    });
    expect(changes.page).toHaveBeenLastCalledWith('acme', '0', 101);
    changes.latestId.mockResolvedValue('42');
    expect((await service.page(auth, 'acme', { cursor: 'now' })).nextCursor).toBe(encodeFeedCursor('42'));
    expect(changes.page).toHaveBeenLastCalledWith('acme', '42', 101);
  });

  it('refuses a cursor it did not hand out with 400 naming cursor, before any query', async () => {
    for (const cursor of [
      'x',
      encodeFeedCursor('-1'),
      encodeFeedCursor('01'),
      encodeFeedCursor('99999999999999999999'),
    ]) {
      const error = (await service
        .page(auth, 'acme', { cursor })
        .catch((caught: unknown) => caught)) as HttpException;
      expect(error.getStatus()).toBe(400);
      expect(error.getResponse()).toMatchObject({ invalidParams: [{ name: 'cursor' }] });
    }
    expect(tenants.require).not.toHaveBeenCalled();
    expect(decodeFeedCursor(encodeFeedCursor('9223372036854775807'))).toBe('9223372036854775807');
  });

  it('answers 404 for an unknown tenant', async () => {
    tenants.require.mockRejectedValue(new NotFoundException('Tenant "nope" does not exist'));
    await expect(service.page(auth, 'nope', {})).rejects.toThrow(NotFoundException);
  });

  it('answers 410 naming the cursor when entries after it were deleted by the retention, before reading any', async () => {
    retention.feedDeletedThrough.mockResolvedValue('500');
    const error = (await service
      .page(auth, 'acme', { cursor: encodeFeedCursor('499') })
      .catch((caught: unknown) => caught)) as HttpException;
    expect(error.getStatus()).toBe(410);
    expect(error.getResponse()).toMatchObject({ invalidParams: [{ name: 'cursor' }] });
    expect(changes.page).not.toHaveBeenCalled();

    // A reader that had read up to the last deleted entry lost nothing.
    changes.page.mockResolvedValue([aChange('501')]);
    const page = await service.page(auth, 'acme', { cursor: encodeFeedCursor('500') });
    expect(page.data.map((change) => change.sequence)).toEqual(['501']);
  });

  it('starts a reader without a cursor after the deleted entries, so its next cursor is not an expired one', async () => {
    retention.feedDeletedThrough.mockResolvedValue('500');
    changes.page.mockResolvedValue([]);
    const page = await service.page(auth, 'acme', {});
    expect(changes.page).toHaveBeenCalledWith('acme', '500', 101);
    await expect(service.page(auth, 'acme', { cursor: page.nextCursor })).resolves.toMatchObject({
      data: [],
    });
  });
});
