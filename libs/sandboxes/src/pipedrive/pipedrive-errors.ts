import type { Response } from 'express';
import type { z } from 'zod';
import type { FaultResponse } from '../kit';

/** Shared text of Pipedrive error bodies. */
export const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

/** An error a route turns into Pipedrive's error body (see pipedriveErrorReply). */
export class PipedriveHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** 400 with Pipedrive's schema-validation code. */
export class ValidationError extends PipedriveHttpError {
  constructor(message: string) {
    super(400, `Validation failed: ${message}`, { code: 'ERR_SCHEMA_VALIDATION_FAILED' });
  }
}

function zodMessage(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(zodMessage(result.error));
  return result.data;
}

/** Parses an RFC 3339 date-time query/body value (as API v2 takes them) to epoch ms. */
export function parseRfc3339(name: string, value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value))
    throw new ValidationError(`${name}: Invalid RFC3339 date-time`);
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new ValidationError(`${name}: Invalid RFC3339 date-time`);
  return ms;
}

/** Pipedrive's error body: https://pipedrive.readme.io/docs/core-api-concepts-responses */
export function pipedriveErrorReply(
  status: number,
  error: string,
  extra: Record<string, unknown> = {},
): FaultResponse {
  return {
    status,
    body: { success: false, error, error_info: ERROR_INFO, data: null, additional_data: null, ...extra },
  };
}

export function sendReply(res: Response, reply: FaultResponse): void {
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.status(reply.status).json(reply.body);
}
