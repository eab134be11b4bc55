import {
  applyDecorators,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { from, mergeMap, Observable, of, catchError } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth-context';
import { IDEMPOTENCY_HEADER, IdempotencyService } from './idempotency.service';

/** Answers a request with a known `Idempotency-Key` from the store, and stores the answer of a new one. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const header = request.headers[IDEMPOTENCY_HEADER.toLowerCase()];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || !request.auth) return next.handle();
    const claim = await this.idempotency.claim({
      tenantId: request.params.tenantId ?? '',
      scope: request.auth.tokenId ?? request.auth.actor,
      key,
      method: request.method,
      path: request.path,
      body: request.body,
    });
    if (claim.kind === 'replay') {
      response.status(claim.status);
      response.setHeader('Idempotent-Replayed', 'true');
      return of(claim.body);
    }
    return next.handle().pipe(
      mergeMap((body) =>
        from(this.idempotency.complete(claim.id, response.statusCode, body).then(() => body)),
      ),
      catchError((error: unknown) =>
        from(
          this.idempotency.release(claim.id).then(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}

/**
 * Makes a POST route honour `Idempotency-Key` (and documents the header). The answer is stored as is: never put it
 * on a route whose answer holds a secret (a token, a webhook secret).
 */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_HEADER,
      required: false,
      description:
        'Any unique string (≤ 255 printable characters), e.g. a UUID. The same key with the same body answers the ' +
        'stored result (same status and body, header Idempotent-Replayed: true) for 24 hours; with another body, 422.',
    }),
  );
}
