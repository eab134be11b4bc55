import { mapHttpStatusToErrorCode, parseRetryAfter } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type RecordError } from '@pm/integration-port';
import { HUBSPOT_PROVIDER } from './config';

/**
 * Every HubSpot failure becomes a CrmError here, and nowhere else. HubSpot's error body is
 * `{status, message, correlationId, category, subCategory?, errors?: [{message, code, context}], context?}`
 * (developers.hubspot.com/docs/api/error-handling); 429s add `errorType: "RATE_LIMIT"` and `policyName`; the OAuth
 * token endpoint answers `{status: "BAD_REFRESH_TOKEN" | "BAD_AUTH_CODE" | …, message}`. Messages are HubSpot's own
 * words; none of them, and none we build, carries a token (request URLs can: /oauth/v1/refresh-tokens/{token}).
 */

export interface HubSpotErrorDetail {
  message?: string;
  code?: string;
  in?: string;
  context?: Record<string, string[] | undefined>;
}

export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  subCategory?: unknown;
  errorType?: string;
  policyName?: string;
  errors?: HubSpotErrorDetail[];
  context?: Record<string, string[] | undefined>;
  /** RFC 6749 fields some token-endpoint answers carry too. */
  error?: string;
  error_description?: string;
}

/** An HTTP answer HubSpot gave with a failure status. */
export interface HubSpotHttpFailure {
  status: number;
  body: HubSpotErrorBody | undefined;
  headers: Record<string, string>;
}

/** What we were doing, which decides a few readings (a 400 from the refresh grant means the grant is gone). */
export type HubSpotOperation = 'api' | 'token-exchange' | 'token-refresh' | 'token-revoke';

const TRANSPORT_UNAVAILABLE = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The first property a HubSpot validation error names: `errors[].context.propertyName`, else the embedded JSON. */
function validationDetail(body: HubSpotErrorBody | undefined): {
  message?: string;
  field?: string;
  code?: string;
} {
  const detail =
    body?.errors?.find((entry) => entry.context?.propertyName?.[0] !== undefined) ?? body?.errors?.[0];
  const field = detail?.context?.propertyName?.[0];
  if (detail?.message !== undefined) return { message: detail.message, field, code: detail.code };
  // "Property values were not valid: [{"isValid":false,"message":"…","error":"INVALID_EMAIL","name":"email"}]"
  const embedded = body?.message?.match(/:\s*(\[.*\])\s*$/s)?.[1];
  if (embedded !== undefined) {
    try {
      const parsed: unknown = JSON.parse(embedded);
      const first = Array.isArray(parsed) ? (parsed[0] as unknown) : undefined;
      if (isObject(first)) {
        return {
          message: typeof first.message === 'string' ? first.message : undefined,
          field: typeof first.name === 'string' ? first.name : undefined,
          code: typeof first.error === 'string' ? first.error : undefined,
        };
      }
    } catch {
      // Not the JSON list HubSpot embeds: keep the message whole.
    }
  }
  return { field: body?.context?.propertyName?.[0] };
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Maps one failed HTTP answer. */
export function crmErrorFromHttpFailure(
  failure: HubSpotHttpFailure,
  operation: HubSpotOperation = 'api',
  nowMs: number = Date.now(),
): CrmError {
  const { status, body, headers } = failure;
  const message = body?.message || body?.error_description || `HubSpot answered HTTP ${status}`;
  const crmCode = body?.category ?? (body?.status !== 'error' ? body?.status : undefined) ?? body?.error;
  const base = { status, provider: HUBSPOT_PROVIDER, crmCode };

  if (operation === 'token-refresh' || operation === 'token-exchange') {
    const revoked =
      body?.status === 'BAD_REFRESH_TOKEN' ||
      body?.error === 'invalid_grant' ||
      (status === 400 && /refresh token/i.test(message));
    if (operation === 'token-refresh' && revoked)
      return new CrmError(CrmErrorCode.AUTH_REVOKED, message, base);
    if (status === 400 || status === 401) return new CrmError(CrmErrorCode.VALIDATION_FAILED, message, base);
  }

  if (status === 429) {
    const daily =
      body?.policyName === 'DAILY' ||
      /daily limit/i.test(message) ||
      headerValue(headers, 'X-HubSpot-RateLimit-Daily-Remaining') === '0';
    if (daily) return new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, message, base);
    // HubSpot's own 429s carry no Retry-After; the policy says how long the window is.
    const retryAfterMs =
      parseRetryAfter(headerValue(headers, 'Retry-After'), nowMs) ??
      (body?.policyName === 'SECONDLY' || /secondly limit/i.test(message)
        ? 1000
        : Number(headerValue(headers, 'X-HubSpot-RateLimit-Interval-Milliseconds')) || 10_000);
    return new CrmError(CrmErrorCode.RATE_LIMITED, message, { ...base, retryAfterMs });
  }

  if (status === 400 || status === 422) {
    const detail = validationDetail(body);
    return new CrmError(CrmErrorCode.VALIDATION_FAILED, detail.message ?? message, {
      ...base,
      field: detail.field,
      crmCode: detail.code ?? crmCode,
    });
  }

  // 401 EXPIRED_AUTHENTICATION / INVALID_AUTHENTICATION: the vault refreshes, and learns from the refresh grant
  // whether the connection was revoked. 403 MISSING_SCOPES, 404, 409 "Contact already exists" and 5xx follow
  // the shared reading of the status.
  return new CrmError(mapHttpStatusToErrorCode(status), message, base);
}

/** A failure below HTTP (reset, refused, DNS). The message names the code only: the SDK's names the URL. */
export function crmErrorFromTransport(error: unknown): CrmError {
  const code = isObject(error) && typeof error.code === 'string' ? error.code : undefined;
  const type = isObject(error) && typeof error.type === 'string' ? error.type : undefined;
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || type === 'request-timeout') {
    return new CrmError(CrmErrorCode.TIMEOUT, `HubSpot did not answer in time (${code ?? type})`, {
      provider: HUBSPOT_PROVIDER,
      crmCode: code,
    });
  }
  if ((code !== undefined && TRANSPORT_UNAVAILABLE.has(code)) || /socket hang up|ECONNRESET/i.test(text)) {
    return new CrmError(
      CrmErrorCode.CRM_UNAVAILABLE,
      `HubSpot could not be reached (${code ?? 'socket hang up'})`,
      {
        provider: HUBSPOT_PROVIDER,
        crmCode: code ?? 'ECONNRESET',
      },
    );
  }
  // Anything else (a body the SDK could not parse, a missing Content-Type): say what, never where.
  const name = error instanceof Error ? error.name : 'Error';
  const safe = text.replace(/https?:\/\/\S+/g, '<url>');
  return new CrmError(CrmErrorCode.UNKNOWN, `HubSpot call failed: ${name}: ${safe}`, {
    provider: HUBSPOT_PROVIDER,
    crmCode: code,
  });
}

/** A batch response's per-record error (`StandardError`) as the port's RecordError. */
export function recordErrorFromBatchError(error: HubSpotErrorBody & { status?: string }): RecordError {
  const category = error.category ?? 'VALIDATION_ERROR';
  const detail = validationDetail(error);
  const code =
    category === 'VALIDATION_ERROR'
      ? CrmErrorCode.VALIDATION_FAILED
      : category === 'OBJECT_NOT_FOUND'
        ? CrmErrorCode.NOT_FOUND
        : category === 'CONFLICT' || category === 'OBJECT_ALREADY_EXISTS'
          ? CrmErrorCode.DUPLICATE
          : CrmErrorCode.UNKNOWN;
  const recordError: RecordError = {
    code,
    message: detail.message ?? error.message ?? 'HubSpot refused the record',
    crmCode: detail.code ?? category,
  };
  if (detail.field !== undefined) recordError.field = detail.field;
  return recordError;
}

/** A CrmError (a whole call that failed for one record) as that record's error. */
export function recordErrorFromCrmError(error: CrmError): RecordError {
  const recordError: RecordError = { code: error.code, message: error.message };
  if (error.field !== undefined) recordError.field = error.field;
  if (error.crmCode !== undefined) recordError.crmCode = error.crmCode;
  return recordError;
}
