import { Test } from '@nestjs/testing';
import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { toFieldDescriptor } from '../src/describe-object';
import { recordErrorFrom, toCrmError } from '../src/errors';
import { buildChangesQuery } from '../src/read-changes';
import { SalesforceConnector } from '../src/connector';
import { SALESFORCE_INTEGRATION_PORT, SalesforceConnectorModule } from '../src/connector.module';
import { soqlDateTime, soqlName, soqlString } from '../src/soql';
import type { ObservedResponse } from '../src/transport';

/** jsforce's HttpApiError as it throws it: name and errorCode are Salesforce's errorCode, data is the body entry. */
function apiError(errorCode: string, message: string, fields?: string[]): Error {
  const error = new Error(message) as Error & { errorCode: string; data: unknown };
  error.name = errorCode;
  error.errorCode = errorCode;
  error.data = { errorCode, message, ...(fields ? { fields } : {}) };
  return error;
}

function answered(
  status: number,
  headers: Record<string, string> = {},
  retryAfterMs?: number,
): ObservedResponse {
  return { status, headers, observation: retryAfterMs === undefined ? {} : { retryAfterMs } };
}

describe('Salesforce error mapping', () => {
  it.each([
    [
      '403 REQUEST_LIMIT_EXCEEDED (daily allocation)',
      apiError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
      answered(403),
      CrmErrorCode.QUOTA_EXHAUSTED,
    ],
    [
      '429 (throttle)',
      apiError('REQUEST_LIMIT_EXCEEDED', 'Too many requests'),
      answered(429, {}, 3_000),
      CrmErrorCode.RATE_LIMITED,
    ],
    [
      '401 INVALID_SESSION_ID',
      apiError('INVALID_SESSION_ID', 'Session expired or invalid'),
      answered(401),
      CrmErrorCode.AUTH_EXPIRED,
    ],
    [
      '404 NOT_FOUND',
      apiError('NOT_FOUND', 'The requested resource does not exist'),
      answered(404),
      CrmErrorCode.NOT_FOUND,
    ],
    [
      '400 INVALID_FIELD',
      apiError('INVALID_FIELD', "No such column 'Foo'"),
      answered(400),
      CrmErrorCode.VALIDATION_FAILED,
    ],
    [
      '403 API_DISABLED_FOR_ORG',
      apiError('API_DISABLED_FOR_ORG', 'API is not enabled'),
      answered(403),
      CrmErrorCode.PERMISSION_DENIED,
    ],
    [
      '500 UNKNOWN_EXCEPTION',
      apiError('UNKNOWN_EXCEPTION', 'An unexpected error occurred'),
      answered(500),
      CrmErrorCode.CRM_UNAVAILABLE,
    ],
    ['503 without a body', apiError('ERROR_HTTP_503', ''), answered(503), CrmErrorCode.CRM_UNAVAILABLE],
  ])('%s', (_label, error, response, code) => {
    const mapped = toCrmError(error, { response });
    expect(mapped).toBeInstanceOf(CrmError);
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(response.status);
    expect(mapped.provider).toBe('salesforce');
  });

  it('keeps Retry-After, the CRM code, message and field', () => {
    const throttled = toCrmError(apiError('REQUEST_LIMIT_EXCEEDED', 'Too many requests'), {
      response: answered(429, {}, 3_000),
    });
    expect(throttled).toMatchObject({
      retryAfterMs: 3_000,
      crmCode: 'REQUEST_LIMIT_EXCEEDED',
      message: 'Too many requests',
    });
    const invalid = toCrmError(
      apiError('INVALID_EMAIL_ADDRESS', 'Email: invalid email address: x', ['Email']),
      {
        response: answered(400),
      },
    );
    expect(invalid).toMatchObject({
      code: CrmErrorCode.VALIDATION_FAILED,
      field: 'Email',
      crmCode: 'INVALID_EMAIL_ADDRESS',
    });
  });

  it('maps OAuth errors, network failures and client timeouts', () => {
    const oauth = (name: string, message: string) => Object.assign(new Error(message), { name });
    expect(toCrmError(oauth('invalid_grant', 'expired access/refresh token')).code).toBe(
      CrmErrorCode.AUTH_REVOKED,
    );
    expect(toCrmError(oauth('invalid_client', 'invalid client credentials')).code).toBe(
      CrmErrorCode.PERMISSION_DENIED,
    );
    const reset = Object.assign(new Error('request to http://x failed, reason: socket hang up'), {
      name: 'FetchError',
      code: 'ECONNRESET',
    });
    expect(toCrmError(reset)).toMatchObject({ code: CrmErrorCode.CRM_UNAVAILABLE, crmCode: 'ECONNRESET' });
    expect(toCrmError(oauth('AbortError', 'The user aborted a request.')).code).toBe(CrmErrorCode.TIMEOUT);
    const controller = new AbortController();
    controller.abort();
    expect(toCrmError(oauth('AbortError', 'aborted'), { signal: controller.signal }).code).toBe(
      CrmErrorCode.ABORTED,
    );
  });

  it('never lets a token through in a message', () => {
    const token = '00D8d0000000001!AQsecretsessiontoken';
    const leaky = Object.assign(new Error(`request to http://x/id?oauth_token=${token} failed`), {
      name: 'FetchError',
    });
    expect(toCrmError(leaky, { secrets: [token] }).message).toBe(
      'request to http://x/id?oauth_token=[redacted] failed',
    );
  });

  it('reads a collection entry’s statusCode into the record error code', () => {
    expect(
      recordErrorFrom([{ statusCode: 'DUPLICATE_VALUE', message: 'duplicate value found', fields: [] }]),
    ).toEqual({
      code: CrmErrorCode.DUPLICATE,
      message: 'duplicate value found',
      crmCode: 'DUPLICATE_VALUE',
    });
    expect(recordErrorFrom([{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted' }]).code).toBe(
      CrmErrorCode.NOT_FOUND,
    );
  });
});

describe('SOQL building', () => {
  it('escapes string literals so a value cannot end the literal', () => {
    expect(soqlString("o'brien\\x@acme.example")).toBe("'o\\'brien\\\\x@acme.example'");
    expect(() => soqlName('Email) OR (Id')).toThrow(RangeError);
  });

  it('writes instants as UTC dateTime literals with milliseconds', () => {
    expect(soqlDateTime('2026-01-05T10:00:00.000+01:00')).toBe('2026-01-05T09:00:00.000Z');
    expect(soqlDateTime('2026-01-05T09:00:00Z')).toBe('2026-01-05T09:00:00.000Z');
  });

  it('builds the keyset query: strictly after (stamp, id), ordered by stamp then id', () => {
    expect(
      buildChangesQuery(
        'Contact',
        ['Id', 'SystemModstamp'],
        { modifiedAt: '2026-01-05T09:00:00Z', lastId: '0038d00000000AbCAAA' },
        500,
      ),
    ).toBe(
      'SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2026-01-05T09:00:00.000Z OR ' +
        "(SystemModstamp = 2026-01-05T09:00:00.000Z AND Id > '0038d00000000AbCAAA') ORDER BY SystemModstamp ASC, Id ASC LIMIT 500",
    );
    expect(buildChangesQuery('Lead', ['Id'], null, 10)).toBe(
      'SELECT Id FROM Lead ORDER BY SystemModstamp ASC, Id ASC LIMIT 10',
    );
  });
});

describe('describe mapping', () => {
  it('maps types, required (not nillable, not defaulted), read-only and active picklist options', () => {
    expect(
      toFieldDescriptor({
        name: 'Status',
        label: 'Status',
        type: 'picklist',
        nillable: false,
        createable: true,
        updateable: true,
        defaultedOnCreate: true,
        custom: false,
        picklistValues: [
          { value: 'Open', label: 'Open', active: true },
          { value: 'Old', label: 'Old', active: false },
        ],
      }),
    ).toEqual({
      name: 'Status',
      label: 'Status',
      type: 'picklist',
      crmType: 'picklist',
      required: false,
      readOnly: false,
      custom: false,
      options: [{ value: 'Open', label: 'Open' }],
    });
    expect(
      toFieldDescriptor({
        name: 'Score__c',
        label: 'Score',
        type: 'double',
        nillable: true,
        createable: false,
        updateable: false,
        defaultedOnCreate: false,
        custom: true,
      }),
    ).toMatchObject({ type: 'number', readOnly: true, required: false, custom: true });
  });
});

describe('SalesforceConnectorModule', () => {
  it('provides the configured connector under its DI token', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SalesforceConnectorModule.register({
          clientId: 'id',
          clientSecret: 'secret',
          loginUrl: 'https://test.salesforce.com/',
        }),
      ],
    }).compile();
    const connector = moduleRef.get<SalesforceConnector>(SALESFORCE_INTEGRATION_PORT);
    expect(connector).toBeInstanceOf(SalesforceConnector);
    expect(connector.provider).toBe('salesforce');
    expect(new URL(connector.buildAuthorizeUrl({ state: 's', redirectUri: 'https://app/cb' })).origin).toBe(
      'https://test.salesforce.com',
    );
    expect(
      () => new SalesforceConnector({ clientId: 'id', clientSecret: 'secret', apiVersion: '40.0' }),
    ).toThrow(/46\.0/);
  });
});
