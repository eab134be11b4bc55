import { createHash } from 'node:crypto';
import { ConflictException, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { API_CLOCK, type ApiClock } from '../http/api-clock';
import { ValidationProblem } from '../http/problem-details.filter';
import { IdempotencyKeyRepository, type IdempotencyScope } from '../repositories/idempotency-key.repository';

/** How long a key's answer is kept and replayed. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Printable ASCII, as Stripe and the IETF draft allow; long enough for a UUID or a hash. */
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentRequest {
  tenantId: string;
  /** Which token sent it (its id, or the platform actor). */
  scope: string;
  key: string;
  method: string;
  path: string;
  body: unknown;
}

export type IdempotencyClaim =
  | { kind: 'new'; id: string }
  | { kind: 'replay'; status: number; body: unknown };

/**
 * `Idempotency-Key` for POST routes: the first request with a key runs and its answer is stored; the same key with
 * the same request answers the stored result; with another request it is a 422. Keys are scoped per tenant and
 * token and kept 24 hours. A request that fails leaves no answer behind, so the caller may retry with the key.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyKeyRepository,
    @Inject(API_CLOCK) private readonly clock: ApiClock,
  ) {}

  async claim(request: IdempotentRequest): Promise<IdempotencyClaim> {
    if (!KEY_SHAPE.test(request.key)) {
      throw new ValidationProblem([
        { name: IDEMPOTENCY_HEADER, reason: 'must be 1 to 255 printable ASCII characters' },
      ]);
    }
    const where: IdempotencyScope = { tenantId: request.tenantId, scope: request.scope, key: request.key };
    const hash = requestHash(request);
    const now = this.clock.now();
    const id = await this.keys.claim(where, hash, now, new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS));
    if (id) return { kind: 'new', id };
    const stored = await this.keys.find(where);
    if (!stored) throw new ConflictException(`A request with this ${IDEMPOTENCY_HEADER} is in progress`);
    if (stored.requestHash !== hash) {
      throw new HttpException(
        {
          detail: `This ${IDEMPOTENCY_HEADER} was used with another request (method, path or body differ)`,
          invalidParams: [{ name: IDEMPOTENCY_HEADER, reason: 'was already used with another request body' }],
        },
        HttpStatus.UNPROCESSABLE_ENTITY,
      );
    }
    if (stored.responseStatus === null || stored.responseStatus === undefined) {
      throw new ConflictException(`A request with this ${IDEMPOTENCY_HEADER} is in progress; retry later`);
    }
    return { kind: 'replay', status: stored.responseStatus, body: stored.responseBody ?? undefined };
  }

  complete(id: string, status: number, body: unknown): Promise<void> {
    return this.keys.complete(id, status, body);
  }

  release(id: string): Promise<void> {
    return this.keys.release(id);
  }
}

/** The same request: method, path and the body as JSON with keys sorted (key order is not a difference). */
export function requestHash(request: Pick<IdempotentRequest, 'method' | 'path' | 'body'>): string {
  return createHash('sha256')
    .update(`${request.method.toUpperCase()} ${request.path}\n${canonicalJson(request.body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
