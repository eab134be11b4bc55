import { CrmErrorCode } from '@pm/integration-port';
import { crmErrorFromHttpFailure, crmErrorFromTransport, recordErrorFromBatchError } from '../src/errors';

describe('HubSpot error mapping', () => {
  it('reads a revoked refresh token from the token endpoint as AUTH_REVOKED, a bad code as VALIDATION_FAILED', () => {
    const body = { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' };
    expect(crmErrorFromHttpFailure({ status: 400, body, headers: {} }, 'token-refresh')).toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
      message: 'missing or invalid refresh token',
      crmCode: 'BAD_REFRESH_TOKEN',
    });
    const badCode = { status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code' };
    expect(crmErrorFromHttpFailure({ status: 400, body: badCode, headers: {} }, 'token-exchange').code).toBe(
      CrmErrorCode.VALIDATION_FAILED,
    );
  });

  it('tells the daily 429 from the ten-secondly one and derives a pause when HubSpot sends no Retry-After', () => {
    const rolling = {
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      policyName: 'TEN_SECONDLY_ROLLING',
    };
    expect(
      crmErrorFromHttpFailure({
        status: 429,
        body: rolling,
        headers: { 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      }),
    ).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 10_000 });
    const secondly = { status: 'error', message: 'You have reached your secondly limit.' };
    expect(crmErrorFromHttpFailure({ status: 429, body: secondly, headers: {} }).retryAfterMs).toBe(1000);
    expect(
      crmErrorFromHttpFailure({
        status: 429,
        body: rolling,
        headers: { 'X-HubSpot-RateLimit-Daily-Remaining': '0' },
      }).code,
    ).toBe(CrmErrorCode.QUOTA_EXHAUSTED);
  });

  it('names the property of a validation error from the message HubSpot embeds it in', () => {
    const message =
      'Property values were not valid: [{"isValid":false,"message":"Email address x is invalid","error":"INVALID_EMAIL","name":"email"}]';
    expect(recordErrorFromBatchError({ status: 'error', category: 'VALIDATION_ERROR', message })).toEqual({
      code: CrmErrorCode.VALIDATION_FAILED,
      message: 'Email address x is invalid',
      field: 'email',
      crmCode: 'INVALID_EMAIL',
    });
  });

  it('never repeats a request URL (which can hold a token) in a transport error', () => {
    const token = 'na1-0000-secret-refresh-token';
    const reset = Object.assign(
      new Error(
        `request to https://api.hubapi.com/oauth/v1/refresh-tokens/${token} failed, reason: socket hang up`,
      ),
      { name: 'FetchError', type: 'system', code: 'ECONNRESET' },
    );
    const mapped = crmErrorFromTransport(reset);
    expect(mapped.code).toBe(CrmErrorCode.CRM_UNAVAILABLE);
    expect(mapped.message).not.toContain(token);
    const odd = crmErrorFromTransport(
      new Error(`invalid json response body at https://x.test/oauth/v1/access-tokens/${token}`),
    );
    expect(odd.code).toBe(CrmErrorCode.UNKNOWN);
    expect(odd.message).not.toContain(token);
  });
});
