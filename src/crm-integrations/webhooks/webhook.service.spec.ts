import { randomBytes } from 'node:crypto';
import { NotFoundException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import { SecretBox, WebhookEndpoint } from '@pm/domain';
import type { AuditService } from '../audit/audit.service';
import type { ContactChangeRepository, WebhookRepository } from '../repositories';
import type { TenantService } from '../tenants/tenant.service';
import { aTenant } from '../testing/entities';
import type { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookService } from './webhook.service';

const auth = { actor: 'token:backend', tenantId: 'acme' };
const NOW = new Date('2026-12-05T12:00:00Z');

describe('WebhookService', () => {
  let webhooks: jest.Mocked<WebhookRepository>;
  let changes: jest.Mocked<ContactChangeRepository>;
  let audit: jest.Mocked<AuditService>;
  let box: SecretBox;
  let service: WebhookService;

  beforeEach(() => {
    webhooks = autoMock<WebhookRepository>('webhooks');
    changes = autoMock<ContactChangeRepository>('changes');
    audit = autoMock<AuditService>('audit');
    const tenants = autoMock<TenantService>('tenants');
    tenants.require.mockResolvedValue(aTenant());
    webhooks.flush.mockResolvedValue();
    audit.record.mockResolvedValue();
    box = new SecretBox({ id: 'k1', key: randomBytes(32) });
    service = new WebhookService(
      webhooks,
      changes,
      autoMock<WebhookDeliveryService>('delivery'),
      tenants,
      box,
      audit,
      { now: () => NOW },
      {},
    );
  });

  it('creates the endpoint at the head of the feed with a sealed secret, answered once and never audited', async () => {
    webhooks.findEndpoint.mockResolvedValue(null);
    changes.latestId.mockResolvedValue('41');
    const endpoint = Object.assign(new WebhookEndpoint(), { url: 'https://hooks.example/crm' });
    webhooks.createEndpoint.mockReturnValue(endpoint);
    const { created, body } = await service.set(auth, 'acme', { url: 'https://hooks.example/crm' });
    expect(created).toBe(true);
    expect(webhooks.createEndpoint).toHaveBeenCalledWith('acme', {
      url: 'https://hooks.example/crm',
      feedPosition: '41',
    });
    const secret = (body as { secret: string }).secret;
    expect(box.open(endpoint.secret, endpoint.id)).toBe(secret);
    expect(JSON.stringify(endpoint.secret)).not.toContain(secret);
    expect(JSON.stringify(audit.record.mock.calls)).not.toContain(secret);
  });

  it('refuses a URL into the service’s own network, naming the field, and stores nothing', async () => {
    await expect(
      service.set(auth, 'acme', { url: 'http://169.254.169.254/latest/meta-data' }),
    ).rejects.toMatchObject({
      invalidParams: [{ name: 'url', reason: expect.stringContaining('169.254.169.254') }],
    });
    expect(webhooks.createEndpoint).not.toHaveBeenCalled();
    expect(audit.record).not.toHaveBeenCalled();
  });

  it('changes only the URL of an existing endpoint, and does not answer its secret', async () => {
    const endpoint = Object.assign(new WebhookEndpoint(), { url: 'https://old.example/hook' });
    endpoint.secret = box.seal('whsec_kept', endpoint.id);
    webhooks.findEndpoint.mockResolvedValue(endpoint);
    const { created, body } = await service.set(auth, 'acme', { url: 'https://new.example/hook' });
    expect(created).toBe(false);
    expect(body).not.toHaveProperty('secret');
    expect(box.open(endpoint.secret, endpoint.id)).toBe('whsec_kept');
    expect(audit.record).toHaveBeenCalledWith(
      auth,
      expect.objectContaining({
        before: { url: 'https://old.example/hook' },
        after: { url: 'https://new.example/hook' },
      }),
    );
  });

  it('rotates: the old secret becomes the previous one until the overlap ends', async () => {
    const endpoint = Object.assign(new WebhookEndpoint(), { url: 'https://hooks.example/crm' });
    endpoint.secret = box.seal('whsec_old', endpoint.id);
    webhooks.findEndpoint.mockResolvedValue(endpoint);
    const rotated = await service.rotate(auth, 'acme', { overlapHours: 6 });
    expect(box.open(endpoint.secret, endpoint.id)).toBe(rotated.secret);
    expect(box.open(endpoint.previousSecret!, endpoint.id)).toBe('whsec_old');
    expect(endpoint.previousSecretExpiresAt).toEqual(new Date('2026-12-05T18:00:00Z'));
    expect(rotated.endpoint.previousSecretExpiresAt).toBe('2026-12-05T18:00:00.000Z');

    await service.rotate(auth, 'acme', { overlapHours: 0 });
    expect(endpoint.previousSecret).toBeNull();
    expect(endpoint.previousSecretExpiresAt).toBeNull();
  });

  it('answers 404 for a delivery the tenant does not have', async () => {
    webhooks.findDelivery.mockResolvedValue(null);
    await expect(service.redeliver(auth, 'acme', 'f0f0f0f0-0000-4000-8000-000000000000')).rejects.toThrow(
      NotFoundException,
    );
  });
});
