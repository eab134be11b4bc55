import { HttpException } from '@nestjs/common';
import { autoMock } from '@pm/integration-port/testing';
import { IdempotencyKey } from '@pm/domain';
import type { IdempotencyKeyRepository } from '../repositories/idempotency-key.repository';
import { IdempotencyService, requestHash, type IdempotentRequest } from './idempotency.service';

const NOW = new Date('2026-12-05T12:00:00Z');
const request: IdempotentRequest = {
  tenantId: 'acme',
  scope: 'token-1',
  key: 'key-1',
  method: 'POST',
  path: '/api/v1/tenants/acme/contacts/batch',
  body: { contacts: [{ email: 'a@example.com', firstName: 'A' }] },
};

function stored(overrides: Partial<IdempotencyKey>): IdempotencyKey {
  return Object.assign(new IdempotencyKey(), { requestHash: requestHash(request) }, overrides);
}

describe('IdempotencyService', () => {
  let keys: jest.Mocked<IdempotencyKeyRepository>;
  let service: IdempotencyService;

  beforeEach(() => {
    keys = autoMock<IdempotencyKeyRepository>('keys');
    service = new IdempotencyService(keys, { now: () => NOW });
  });

  it('claims a new key for 24 hours, scoped by tenant and token', async () => {
    keys.claim.mockResolvedValue('row-1');
    await expect(service.claim(request)).resolves.toEqual({ kind: 'new', id: 'row-1' });
    expect(keys.claim).toHaveBeenCalledWith(
      { tenantId: 'acme', scope: 'token-1', key: 'key-1' },
      requestHash(request),
      NOW,
      new Date('2026-12-06T12:00:00Z'),
    );
  });

  it('replays the stored status and body for the same request', async () => {
    keys.claim.mockResolvedValue(null);
    keys.find.mockResolvedValue(stored({ responseStatus: 207, responseBody: { created: 1 } }));
    await expect(service.claim(request)).resolves.toEqual({
      kind: 'replay',
      status: 207,
      body: { created: 1 },
    });
  });

  it('answers 422 naming Idempotency-Key for another body, 409 while the first still runs', async () => {
    keys.claim.mockResolvedValue(null);
    keys.find.mockResolvedValue(stored({ responseStatus: 207, requestHash: 'other' }));
    const conflict = (await service.claim(request).catch((error: unknown) => error)) as HttpException;
    expect(conflict.getStatus()).toBe(422);
    expect(conflict.getResponse()).toMatchObject({ invalidParams: [{ name: 'Idempotency-Key' }] });

    keys.find.mockResolvedValue(stored({ responseStatus: null }));
    const running = (await service.claim(request).catch((error: unknown) => error)) as HttpException;
    expect(running.getStatus()).toBe(409);
  });

  it('refuses a malformed key with 400 before touching the store', async () => {
    for (const key of ['', 'with space', 'x'.repeat(256), 'ключ']) {
      const error = (await service
        .claim({ ...request, key })
        .catch((caught: unknown) => caught)) as HttpException;
      expect(error.getStatus()).toBe(400);
    }
    expect(keys.claim).not.toHaveBeenCalled();
  });

  it('hashes the request so key order does not matter but method, path and values do', () => {
    const base = requestHash(request);
    expect(
      requestHash({ ...request, body: { contacts: [{ firstName: 'A', email: 'a@example.com' }] } }),
    ).toBe(base);
    expect(requestHash({ ...request, method: 'post' })).toBe(base);
    expect(requestHash({ ...request, path: '/api/v1/tenants/acme/contacts' })).not.toBe(base);
    expect(
      requestHash({ ...request, body: { contacts: [{ email: 'a@example.com', firstName: 'B' }] } }),
    ).not.toBe(base);
    expect(requestHash({ ...request, body: { contacts: [] } })).not.toBe(base);
  });
});
