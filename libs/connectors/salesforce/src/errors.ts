import { mapHttpStatusToErrorCode } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type RecordError } from '@pm/integration-port';
import type { ObservedResponse } from './transport';

/**
 * Every Salesforce failure becomes a CrmError here, and only here (REST API Developer Guide, "Status Codes and Error
 * Responses"; OAuth token endpoint errors per RFC 6749). Messages are Salesforce's own words; a token never ends up
 * in one (the session's token is scrubbed from anything passed through, as defence in depth).
 */

const PROVIDER = 'salesforce';

/** What jsforce throws for an error answer: `HttpApiError` (name = errorCode) or an OAuth error (name = error). */
interface SalesforceErrorLike {
  name?: unknown;
  message?: unknown;
  errorCode?: unknown;
  code?: unknown;
  data?: unknown;
}

/** sObject Collections per-record error (`statusCode`, not `errorCode`, on the wire). */
export interface CollectionError {
  statusCode?: string;
  errorCode?: string;
  message: string;
  fields?: string[];
}

/** Statuses of per-record DML errors that are not about the data the caller sent. */
const RECORD_STATUS_CODES: Readonly<Record<string, CrmErrorCode>> = {
  DUPLICATE_VALUE: CrmErrorCode.DUPLICATE,
  DUPLICATES_DETECTED: CrmErrorCode.DUPLICATE,
  DUPLICATE_EXTERNAL_ID: CrmErrorCode.DUPLICATE,
  ENTITY_IS_DELETED: CrmErrorCode.NOT_FOUND,
  INSUFFICIENT_ACCESS_OR_READONLY: CrmErrorCode.PERMISSION_DENIED,
  INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY: CrmErrorCode.PERMISSION_DENIED,
  CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY: CrmErrorCode.VALIDATION_FAILED,
  UNABLE_TO_LOCK_ROW: CrmErrorCode.CRM_UNAVAILABLE,
  REQUEST_LIMIT_EXCEEDED: CrmErrorCode.QUOTA_EXHAUSTED,
};

/** Request-level errorCodes whose meaning does not follow from the HTTP status alone. */
const REQUEST_ERROR_CODES: Readonly<Record<string, CrmErrorCode>> = {
  INVALID_SESSION_ID: CrmErrorCode.AUTH_EXPIRED,
  INVALID_AUTH_HEADER: CrmErrorCode.AUTH_EXPIRED,
  API_DISABLED_FOR_ORG: CrmErrorCode.PERMISSION_DENIED,
  API_CURRENTLY_DISABLED: CrmErrorCode.PERMISSION_DENIED,
  INSUFFICIENT_ACCESS: CrmErrorCode.PERMISSION_DENIED,
  NOT_FOUND: CrmErrorCode.NOT_FOUND,
  ENTITY_IS_DELETED: CrmErrorCode.NOT_FOUND,
  SERVER_UNAVAILABLE: CrmErrorCode.CRM_UNAVAILABLE,
  UNABLE_TO_LOCK_ROW: CrmErrorCode.CRM_UNAVAILABLE,
  QUERY_TIMEOUT: CrmErrorCode.TIMEOUT,
};

/** Network failures (node-fetch `FetchError.code`) that mean "Salesforce could not be reached or hung up". */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Removes secrets from a message we pass on; Salesforce never echoes them, but a proxy or a URL might. */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let clean = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 8) clean = clean.split(secret).join('[redacted]');
  }
  return clean;
}

/** The first `fields[]` entry of a Salesforce error body, where it names one. */
function fieldOf(data: unknown): string | undefined {
  const fields = (data as { fields?: unknown } | undefined)?.fields;
  return Array.isArray(fields) && typeof fields[0] === 'string' ? fields[0] : undefined;
}

export interface ErrorContext {
  /** The HTTP answer the failing call got, when one arrived (status and headers jsforce does not keep). */
  response?: ObservedResponse;
  /** The session's abort signal: an aborted call is ABORTED, not TIMEOUT. */
  signal?: AbortSignal;
  /** Tokens to keep out of messages. */
  secrets?: readonly (string | undefined)[];
}

/** Maps anything a jsforce call threw to a CrmError. CrmErrors pass through. */
export function toCrmError(error: unknown, context: ErrorContext = {}): CrmError {
  if (error instanceof CrmError) return error;
  const secrets = context.secrets ?? [];
  const raw = (error ?? {}) as SalesforceErrorLike;
  const name = text(raw.name) ?? '';
  const message = scrub(text(raw.message) ?? String(error), secrets);
  const options = { provider: PROVIDER, cause: error };

  if (context.signal?.aborted) {
    return new CrmError(CrmErrorCode.ABORTED, 'The Salesforce call was aborted by the caller', options);
  }
  // jsforce aborts its fetch when the `timeout` transport option passes ("AbortError").
  if (name === 'AbortError' || message === 'Request Timeout') {
    return new CrmError(CrmErrorCode.TIMEOUT, 'Salesforce did not answer within the client timeout', options);
  }
  const networkCode = text(raw.code);
  if (name === 'FetchError' || (networkCode !== undefined && NETWORK_CODES.has(networkCode))) {
    return new CrmError(CrmErrorCode.CRM_UNAVAILABLE, message, { ...options, crmCode: networkCode });
  }

  // OAuth token/revoke endpoint errors: jsforce names the error after RFC 6749's `error` field.
  if (name === 'invalid_grant') {
    return new CrmError(CrmErrorCode.AUTH_REVOKED, message, {
      ...options,
      crmCode: name,
      status: context.response?.status,
    });
  }
  if (name === 'invalid_client' || name === 'invalid_client_id' || name === 'unauthorized_client') {
    return new CrmError(CrmErrorCode.PERMISSION_DENIED, message, {
      ...options,
      crmCode: name,
      status: context.response?.status,
    });
  }

  const status = context.response?.status;
  const retryAfterMs = context.response?.observation.retryAfterMs;
  const errorCode = text(raw.errorCode) ?? (name.startsWith('ERROR_HTTP_') ? undefined : text(name));
  const field = fieldOf(raw.data);
  const base = { ...options, status, crmCode: errorCode, field, retryAfterMs };

  // 429 is a short-term throttle (Retry-After); 403 REQUEST_LIMIT_EXCEEDED is the daily allocation used up.
  if (status === 429) return new CrmError(CrmErrorCode.RATE_LIMITED, message, base);
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    return new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, message, base);
  }
  if (errorCode !== undefined && REQUEST_ERROR_CODES[errorCode] !== undefined) {
    return new CrmError(REQUEST_ERROR_CODES[errorCode], message, base);
  }
  if (status !== undefined) return new CrmError(mapHttpStatusToErrorCode(status), message, base);
  const httpStatus = /^ERROR_HTTP_(\d{3})$/.exec(name)?.[1];
  if (httpStatus !== undefined) {
    return new CrmError(mapHttpStatusToErrorCode(Number(httpStatus)), message, {
      ...base,
      status: Number(httpStatus),
    });
  }
  return new CrmError(CrmErrorCode.UNKNOWN, message, base);
}

/** A per-record error of an sObject Collections result, with the CRM's message and field. */
export function recordErrorFrom(errors: readonly CollectionError[] | undefined): RecordError {
  const first = errors?.[0];
  if (first === undefined) {
    return { code: CrmErrorCode.UNKNOWN, message: 'Salesforce reported a failure without an error' };
  }
  const crmCode = first.statusCode ?? first.errorCode;
  const code =
    (crmCode !== undefined ? RECORD_STATUS_CODES[crmCode] : undefined) ?? CrmErrorCode.VALIDATION_FAILED;
  const message =
    errors && errors.length > 1 ? errors.map((error) => error.message).join('; ') : first.message;
  return {
    code,
    message,
    ...(first.fields?.[0] !== undefined ? { field: first.fields[0] } : {}),
    ...(crmCode !== undefined ? { crmCode } : {}),
  };
}

/** A CrmError turned into the per-record error of every record of a call that failed as a whole. */
export function recordErrorOf(error: CrmError): RecordError {
  return {
    code: error.code,
    message: error.message,
    ...(error.field !== undefined ? { field: error.field } : {}),
    ...(error.crmCode !== undefined ? { crmCode: error.crmCode } : {}),
  };
}
