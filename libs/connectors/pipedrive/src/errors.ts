import { crmErrorFromHttpStatus, parseRetryAfter } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type RecordError } from '@pm/integration-port';
import { PIPEDRIVE_PROVIDER } from './http-facts';

/**
 * Every Pipedrive failure becomes a CrmError here, and only here. Pipedrive answers errors with
 * `{success: false, error, error_info, data: null}` (https://pipedrive.readme.io/docs/core-api-concepts-responses),
 * plus `errorCode` on 401/429 and `code: "ERR_SCHEMA_VALIDATION_FAILED"` on schema validation; the token endpoint
 * answers RFC 6749 bodies (`{error: "invalid_grant", error_description}`). Messages are Pipedrive's own words; no
 * message built here contains a token (tokens travel in headers and form bodies only, never in URLs).
 */

/** Account-level failures: no other record of the same call can succeed, so the call throws instead of a result. */
const ACCOUNT_LEVEL_CODES: ReadonlySet<CrmErrorCode> = new Set([
  CrmErrorCode.AUTH_EXPIRED,
  CrmErrorCode.AUTH_REVOKED,
  CrmErrorCode.PERMISSION_DENIED,
  CrmErrorCode.RATE_LIMITED,
  CrmErrorCode.QUOTA_EXHAUSTED,
  CrmErrorCode.ABORTED,
]);

export function isAccountLevelError(error: unknown): error is CrmError {
  return error instanceof CrmError && ACCOUNT_LEVEL_CODES.has(error.code);
}

interface PipedriveErrorBody {
  error?: unknown;
  error_description?: unknown;
  message?: unknown;
  code?: unknown;
  errorCode?: unknown;
}

function asErrorBody(body: unknown): PipedriveErrorBody {
  return typeof body === 'object' && body !== null ? (body as PipedriveErrorBody) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The field a validation message names. Pipedrive's schema errors read "Validation failed: <path>: <reason>"
 * (`name: Required`, `org_id: Organization 9 not found`, `custom_fields.<key>: …`); the path is returned as sent.
 */
export function fieldOfValidationMessage(message: string): string | undefined {
  const match = /^Validation failed: ([A-Za-z0-9_.]+):/.exec(message);
  return match?.[1];
}

/** A CrmError for an API response that was not 2xx. */
export function crmErrorFromResponse(status: number, body: unknown, headers: Headers): CrmError {
  const parsed = asErrorBody(body);
  const message =
    text(parsed.error) ??
    text(parsed.message) ??
    `Pipedrive answered HTTP ${status} without an error message`;
  const crmCode =
    text(parsed.code) ?? (typeof parsed.errorCode === 'number' ? String(parsed.errorCode) : undefined);
  const options = { provider: PIPEDRIVE_PROVIDER, crmCode };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after') ?? undefined);
    // The daily token budget is per company and refills at midnight: pausing until then, not retrying in seconds.
    const code = /daily|budget/i.test(message) ? CrmErrorCode.QUOTA_EXHAUSTED : CrmErrorCode.RATE_LIMITED;
    return new CrmError(code, message, { ...options, status, retryAfterMs });
  }
  if (status === 400 || status === 422) {
    return new CrmError(CrmErrorCode.VALIDATION_FAILED, message, {
      ...options,
      status,
      field: fieldOfValidationMessage(message),
    });
  }
  // 402 (plan does not include the feature) and 403 (scope or permission) both mean "not allowed".
  if (status === 402) return new CrmError(CrmErrorCode.PERMISSION_DENIED, message, { ...options, status });
  return crmErrorFromHttpStatus(status, message, options);
}

/** A CrmError for the OAuth token endpoint; `invalid_grant` means the refresh token or code is no longer valid. */
export function crmErrorFromTokenResponse(status: number, body: unknown): CrmError {
  const parsed = asErrorBody(body);
  const error = text(parsed.error);
  const description = text(parsed.error_description) ?? text(parsed.message);
  const message =
    [error, description].filter(Boolean).join(': ') || `Token request failed with HTTP ${status}`;
  const options = { provider: PIPEDRIVE_PROVIDER, status, crmCode: error };
  if (error === 'invalid_grant') return new CrmError(CrmErrorCode.AUTH_REVOKED, message, options);
  if (error === 'invalid_client' || error === 'unauthorized_client')
    return new CrmError(CrmErrorCode.PERMISSION_DENIED, message, options);
  if (error === 'invalid_request' || error === 'unsupported_grant_type')
    return new CrmError(CrmErrorCode.VALIDATION_FAILED, message, options);
  return crmErrorFromHttpStatus(status, message, options);
}

/** A request that got no HTTP answer: our timeout, the caller's abort, or the network (reset, refused, DNS). */
export function crmErrorFromNetworkFailure(
  error: unknown,
  reason: { timedOut: boolean; aborted: boolean; timeoutMs: number },
): CrmError {
  const options = { provider: PIPEDRIVE_PROVIDER, cause: error };
  if (reason.aborted)
    return new CrmError(CrmErrorCode.ABORTED, 'The call was aborted by the caller', options);
  if (reason.timedOut) {
    return new CrmError(
      CrmErrorCode.TIMEOUT,
      `Pipedrive did not answer within ${reason.timeoutMs} ms; the request may or may not have been applied`,
      options,
    );
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const detail = typeof cause?.message === 'string' ? cause.message : String(error);
  return new CrmError(CrmErrorCode.CRM_UNAVAILABLE, `Pipedrive could not be reached (${code ?? detail})`, {
    ...options,
    crmCode: code,
  });
}

/** The per-record form of an error, for results of calls that write record by record. */
export function toRecordError(error: CrmError, field?: string): RecordError {
  const recordError: RecordError = { code: error.code, message: error.message };
  const named = field ?? error.field;
  if (named !== undefined) recordError.field = named;
  if (error.crmCode !== undefined) recordError.crmCode = error.crmCode;
  return recordError;
}
