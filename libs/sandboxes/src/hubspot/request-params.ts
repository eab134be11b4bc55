// Reading HubSpot's query parameters and JSON bodies. The SDK sends list parameters repeated
// (`properties=a&properties=b`); other clients send them comma-separated (`properties=a,b`): both are accepted.
import type { Request } from 'express';
import { validationError } from './errors';

export function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export function queryList(req: Request, name: string): string[] | undefined {
  const value = req.query[name];
  const parts =
    typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value.filter((v) => typeof v === 'string')
        : [];
  if (parts.length === 0) return undefined;
  return parts
    .flatMap((part) => String(part).split(','))
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function queryBoolean(req: Request, name: string): boolean {
  return queryString(req, name)?.toLowerCase() === 'true';
}

/** `limit` with HubSpot's default and maximum; over the maximum is a 400, as HubSpot answers. */
export function queryLimit(req: Request, defaultLimit: number, maxLimit: number): number {
  const raw = queryString(req, 'limit');
  if (raw === undefined || raw === '') return defaultLimit;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw validationError(`Invalid limit: ${raw}`);
  if (limit > maxLimit)
    throw validationError(`limit must be less than or equal to ${maxLimit}, but was ${limit}`);
  return limit;
}

export function bodyObject(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationError('Invalid input JSON: expected an object');
  }
  return body as Record<string, unknown>;
}

export function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
