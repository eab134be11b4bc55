import { CrmError, CrmErrorCode, type CrmErrorOptions } from '@pm/integration-port';

/**
 * The default reading of an HTTP status. Connectors refine it with the CRM's body where the status is ambiguous
 * (Salesforce REQUEST_LIMIT_EXCEEDED is a 403, HubSpot's DAILY policy is a 429 that means QUOTA_EXHAUSTED).
 */
export function mapHttpStatusToErrorCode(status: number): CrmErrorCode {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return CrmErrorCode.VALIDATION_FAILED;
    case 401:
      return CrmErrorCode.AUTH_EXPIRED;
    case 402:
    case 403:
      return CrmErrorCode.PERMISSION_DENIED;
    case 404:
    case 410:
      return CrmErrorCode.NOT_FOUND;
    case 409:
      return CrmErrorCode.DUPLICATE;
    case 408:
    // A gateway that gave up waiting: like a client timeout, the request may or may not have been applied.
    case 504:
      return CrmErrorCode.TIMEOUT;
    case 429:
      return CrmErrorCode.RATE_LIMITED;
    default:
      if (status >= 500 && status <= 599) {
        return CrmErrorCode.CRM_UNAVAILABLE;
      }
      return CrmErrorCode.UNKNOWN;
  }
}

/** A CrmError for an HTTP failure, with the status's default code and the CRM's own message. */
export function crmErrorFromHttpStatus(
  status: number,
  message: string,
  options: CrmErrorOptions = {},
): CrmError {
  return new CrmError(mapHttpStatusToErrorCode(status), message, { ...options, status });
}
