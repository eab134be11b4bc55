import { CrmErrorCode } from '@pm/integration-port';
import { crmErrorFromHttpStatus, mapHttpStatusToErrorCode } from './http-status';

describe('mapHttpStatusToErrorCode', () => {
  it.each([
    [400, CrmErrorCode.VALIDATION_FAILED],
    [422, CrmErrorCode.VALIDATION_FAILED],
    [401, CrmErrorCode.AUTH_EXPIRED],
    [403, CrmErrorCode.PERMISSION_DENIED],
    [404, CrmErrorCode.NOT_FOUND],
    [409, CrmErrorCode.DUPLICATE],
    [408, CrmErrorCode.TIMEOUT],
    [429, CrmErrorCode.RATE_LIMITED],
    [500, CrmErrorCode.CRM_UNAVAILABLE],
    [503, CrmErrorCode.CRM_UNAVAILABLE],
    [504, CrmErrorCode.TIMEOUT],
    [418, CrmErrorCode.UNKNOWN],
  ])('maps %i to %s', (status, code) => {
    expect(mapHttpStatusToErrorCode(status)).toBe(code);
  });

  it('builds a CrmError that keeps the status, the CRM message and Retry-After', () => {
    const error = crmErrorFromHttpStatus(429, 'You have reached your secondly limit.', {
      retryAfterMs: 1000,
    });
    expect(error).toMatchObject({
      code: CrmErrorCode.RATE_LIMITED,
      status: 429,
      retryAfterMs: 1000,
      message: 'You have reached your secondly limit.',
    });
  });
});
