import { randomBytes } from 'node:crypto';
import { autoMock } from '@pm/integration-port/testing';
import { SecretBox, WebhookDelivery, WebhookEndpoint } from '@pm/domain';
import type { WebhookRepository } from '../repositories';
import { RETRY_WINDOW_MS, retryDelayMs, WebhookDeliveryService } from './webhook-delivery.service';
import type { WebhookQueue } from './webhook-queue';

const CREATED = new Date('2026-12-05T00:00:00Z');

function aDelivery(overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return Object.assign(
    new WebhookDelivery(),
    { body: '{}', firstChangeId: '1', lastChangeId: '1', createdAt: CREATED },
    overrides,
  );
}

describe('WebhookDeliveryService', () => {
  let now: Date;
  let queue: jest.Mocked<WebhookQueue>;
  let box: SecretBox;
  let service: WebhookDeliveryService;

  beforeEach(() => {
    now = CREATED;
    queue = autoMock<WebhookQueue>('queue');
    box = new SecretBox({ id: 'k1', key: randomBytes(32) });
    service = new WebhookDeliveryService(
      autoMock<WebhookRepository>('webhooks'),
      box,
      queue,
      { now: () => now },
      { webhooks: { allowPrivateReceivers: true } },
    );
  });

  it('backs off exponentially from 30 seconds, at most 2 hours apart', () => {
    expect([1, 2, 3, 4, 8, 9, 10, 20].map(retryDelayMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 3_840_000, 7_200_000, 7_200_000, 7_200_000,
    ]);
  });

  it('keeps a failed attempt pending with its next attempt, then marks it failed once a day has passed', async () => {
    const first = await service.attempt(null, aDelivery(), { manual: false });
    expect(first).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAt: new Date(CREATED.getTime() + 30_000),
    });
    expect(first.lastError).toBe('No webhook endpoint is set for this tenant');

    now = new Date(CREATED.getTime() + RETRY_WINDOW_MS - 60_000);
    const late = await service.attempt(null, aDelivery({ attempts: 15, status: 'pending' }), {
      manual: false,
    });
    expect(late).toMatchObject({ status: 'failed', attempts: 16, nextAttemptAt: null });
  });

  it('leaves a failed delivery failed when a manual redelivery fails too (no new day of retries)', async () => {
    now = new Date(CREATED.getTime() + 2 * RETRY_WINDOW_MS);
    const outcome = await service.attempt(null, aDelivery({ attempts: 20, status: 'failed' }), {
      manual: true,
    });
    expect(outcome).toMatchObject({ status: 'failed', attempts: 21, nextAttemptAt: null });
  });

  it('signs with the current secret, and the previous one only during its overlap', () => {
    const endpoint = Object.assign(new WebhookEndpoint(), { url: 'http://127.0.0.1:1/hook' });
    endpoint.secret = box.seal('current', endpoint.id);
    endpoint.previousSecret = box.seal('previous', endpoint.id);
    endpoint.previousSecretExpiresAt = new Date(CREATED.getTime() + 3_600_000);
    expect(service.signingSecrets(endpoint, CREATED)).toEqual(['current', 'previous']);
    expect(service.signingSecrets(endpoint, new Date(CREATED.getTime() + 3_600_000))).toEqual(['current']);
  });

  it('wakes the tenant’s webhook job when the sync records changes', async () => {
    queue.enqueue.mockResolvedValue('job-1');
    await service.changesRecorded('acme');
    expect(queue.enqueue).toHaveBeenCalledWith('acme');
  });
});
