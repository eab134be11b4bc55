import { CrmErrorCode } from '@pm/integration-port';
import { crmErrorFromResponse, crmErrorFromTokenResponse } from '../src/errors';
import { toCrmRecord, toRequestBody } from '../src/objects';
import { parsePipedriveWebhook } from '../src/parse-webhook';

/** The pure translations: error bodies to codes, flat fields to API v2 bodies, webhook payloads to events. */
describe('Pipedrive error mapping', () => {
  const headers = (values: Record<string, string> = {}) => new Headers(values);

  it('tells the burst limit (retry in seconds) from the daily token budget (pause until it refills)', () => {
    const burst = crmErrorFromResponse(
      429,
      { success: false, error: 'Request over limit', errorCode: 429 },
      headers({ 'retry-after': '2' }),
    );
    expect(burst).toMatchObject({ code: CrmErrorCode.RATE_LIMITED, retryAfterMs: 2000, crmCode: '429' });
    const daily = crmErrorFromResponse(
      429,
      { success: false, error: 'Daily API token budget exceeded' },
      headers(),
    );
    expect(daily.code).toBe(CrmErrorCode.QUOTA_EXHAUSTED);
  });

  it('keeps Pipedrive’s validation message and the field it names', () => {
    const error = crmErrorFromResponse(
      400,
      {
        success: false,
        error: 'Validation failed: custom_fields.abc: Unknown custom field',
        code: 'ERR_SCHEMA_VALIDATION_FAILED',
      },
      headers(),
    );
    expect(error).toMatchObject({
      code: CrmErrorCode.VALIDATION_FAILED,
      message: 'Validation failed: custom_fields.abc: Unknown custom field',
      field: 'custom_fields.abc',
      crmCode: 'ERR_SCHEMA_VALIDATION_FAILED',
      status: 400,
    });
  });

  it('maps 401, 402, 403, 404 and 5xx, and an empty body still gets a message', () => {
    const codes = [401, 402, 403, 404, 502].map((status) =>
      crmErrorFromResponse(status, undefined, headers()),
    );
    expect(codes.map((error) => error.code)).toEqual([
      CrmErrorCode.AUTH_EXPIRED,
      CrmErrorCode.PERMISSION_DENIED,
      CrmErrorCode.PERMISSION_DENIED,
      CrmErrorCode.NOT_FOUND,
      CrmErrorCode.CRM_UNAVAILABLE,
    ]);
    expect(codes[4].message).toBe('Pipedrive answered HTTP 502 without an error message');
  });

  it('reads invalid_grant from the token endpoint as AUTH_REVOKED', () => {
    expect(
      crmErrorFromTokenResponse(400, { error: 'invalid_grant', error_description: 'invalid refresh token' }),
    ).toMatchObject({
      code: CrmErrorCode.AUTH_REVOKED,
      message: 'invalid_grant: invalid refresh token',
      crmCode: 'invalid_grant',
    });
    expect(crmErrorFromTokenResponse(401, { error: 'invalid_client' }).code).toBe(
      CrmErrorCode.PERMISSION_DENIED,
    );
  });
});

describe('Pipedrive field translation', () => {
  it('writes first and last name as API v2 `name`, the e-mail as the primary of `emails`, custom fields by key', () => {
    const key = 'a'.repeat(40);
    expect(
      toRequestBody('persons', {
        first_name: 'Ada',
        last_name: 'King Lovelace',
        email: 'ada@x.example',
        [key]: 'v',
      }),
    ).toEqual({
      name: 'Ada King Lovelace',
      emails: [{ value: 'ada@x.example', primary: true, label: 'work' }],
      custom_fields: { [key]: 'v' },
    });
  });

  it('completes a name from the current record when only one part changes', () => {
    const current = { id: 1, update_time: '2026-01-01T00:00:00Z', first_name: 'Ada', last_name: 'Lovelace' };
    expect(toRequestBody('persons', { first_name: 'Augusta' }, current)).toEqual({
      name: 'Augusta Lovelace',
    });
  });

  it('refuses read-only and unknown fields naming them, and translates organization addresses', () => {
    expect(() => toRequestBody('persons', { update_time: 'x' })).toThrow(
      expect.objectContaining({ code: CrmErrorCode.VALIDATION_FAILED, field: 'update_time' }),
    );
    expect(() => toRequestBody('organizations', { email: 'x@y.example' })).toThrow(
      expect.objectContaining({ field: 'email' }),
    );
    expect(toRequestBody('organizations', { address: 'Tallinn' })).toEqual({ address: { value: 'Tallinn' } });
  });

  it('reads an API v2 person as flat fields with the primary e-mail and the organization link', () => {
    const record = toCrmRecord('persons', {
      id: 7,
      add_time: '2026-01-01T00:00:00Z',
      update_time: '2026-01-02T00:00:00Z',
      name: 'Ada',
      org_id: 3,
      emails: [
        { value: 'second@x.example', primary: false },
        { value: 'first@x.example', primary: true },
      ],
      phones: [],
      custom_fields: { ['b'.repeat(40)]: null },
    });
    expect(record).toMatchObject({
      id: '7',
      modifiedAt: '2026-01-02T00:00:00.000Z',
      createdAt: '2026-01-01T00:00:00.000Z',
      fields: { email: 'first@x.example', phone: null, ['b'.repeat(40)]: null },
      associations: { organizations: ['3'] },
    });
  });
});

describe('Pipedrive webhook payloads', () => {
  const secrets = { username: 'pm', secret: 'pw' };
  const request = (body: unknown, auth = 'pm:pw') => ({
    method: 'POST',
    url: 'https://app.example/webhooks/pipedrive',
    headers: { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
    rawBody: Buffer.from(JSON.stringify(body)),
    receivedAt: new Date('2026-03-01T00:00:00Z'),
  });

  it('turns a v2.0 change into an updated event with the changed fields', () => {
    const events = parsePipedriveWebhook(
      request({
        data: { id: 4 },
        previous: { job_title: 'CEO' },
        meta: {
          action: 'change',
          entity: 'organization',
          entity_id: '4',
          company_id: '99',
          timestamp: '2026-02-28T23:59:00.000Z',
          id: 'e-1',
          version: '2.0',
        },
      }),
      secrets,
    );
    expect(events).toEqual([
      {
        accountId: '99',
        object: 'organizations',
        recordId: '4',
        action: 'updated',
        occurredAt: '2026-02-28T23:59:00.000Z',
        changedFields: ['job_title'],
        eventId: 'e-1',
      },
    ]);
  });

  it('refuses the wrong user, and a v1.0 payload even with the right credentials', () => {
    expect(() => parsePipedriveWebhook(request({ meta: { version: '2.0' } }, 'other:pw'), secrets)).toThrow(
      expect.objectContaining({ code: CrmErrorCode.INVALID_SIGNATURE }),
    );
    expect(() =>
      parsePipedriveWebhook(
        request({ current: {}, meta: { v: 1, action: 'updated', object: 'person' } }),
        secrets,
      ),
    ).toThrow(expect.objectContaining({ code: CrmErrorCode.VALIDATION_FAILED }));
  });
});
