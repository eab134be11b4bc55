/**
 * Every connector maps its CRM's raw errors into one of these codes (as Twenty does), so the engine and the retry
 * policy decide what to do without knowing which CRM answered.
 */
export enum CrmErrorCode {
  /** 429 or the CRM's own rate-limit answer; `retryAfterMs` says when to try again. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** A daily allocation is used up; work pauses until it refills. */
  QUOTA_EXHAUSTED = 'QUOTA_EXHAUSTED',
  /** The access token expired or was rejected: refresh and retry once. */
  AUTH_EXPIRED = 'AUTH_EXPIRED',
  /** The refresh token is revoked or invalid (`invalid_grant`): the user must reconnect. */
  AUTH_REVOKED = 'AUTH_REVOKED',
  /** The token lacks a scope or the user a permission. */
  PERMISSION_DENIED = 'PERMISSION_DENIED',
  /** The CRM rejected a record's data; `field` names the field where it says. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** A record with the same unique key exists. */
  DUPLICATE = 'DUPLICATE',
  NOT_FOUND = 'NOT_FOUND',
  /** 5xx, connection reset, DNS: transient. */
  CRM_UNAVAILABLE = 'CRM_UNAVAILABLE',
  /** The client gave up waiting; the request may or may not have been applied. */
  TIMEOUT = 'TIMEOUT',
  /** The request was aborted by the caller. */
  ABORTED = 'ABORTED',
  /** A webhook failed verification. */
  INVALID_SIGNATURE = 'INVALID_SIGNATURE',
  UNKNOWN = 'UNKNOWN',
}

export interface CrmErrorOptions {
  status?: number;
  retryAfterMs?: number;
  field?: string;
  crmCode?: string;
  provider?: string;
  cause?: unknown;
}

/** The one error type a connector throws. Its message is the CRM's own words; it never carries a token. */
export class CrmError extends Error {
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly field?: string;
  readonly crmCode?: string;
  readonly provider?: string;

  constructor(
    readonly code: CrmErrorCode,
    message: string,
    options: CrmErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrmError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.field = options.field;
    this.crmCode = options.crmCode;
    this.provider = options.provider;
  }

  static is(value: unknown, code?: CrmErrorCode): value is CrmError {
    return value instanceof CrmError && (code === undefined || value.code === code);
  }
}

/** Codes after which the same request may succeed later. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<CrmErrorCode> = new Set([
  CrmErrorCode.RATE_LIMITED,
  CrmErrorCode.CRM_UNAVAILABLE,
  CrmErrorCode.TIMEOUT,
]);
