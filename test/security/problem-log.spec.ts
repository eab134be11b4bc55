import { Logger, type ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter } from '../../src/crm-integrations/http/problem-details.filter';

/** Issue 14, hole 3: an internal error is logged at error level without the contact details its message holds. */
describe('ProblemDetailsFilter logging', () => {
  afterEach(() => jest.restoreAllMocks());

  it('logs a database error at error level without its SQL and parameters, and answers 500 without them', () => {
    const errors: unknown[][] = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    class DriverException extends Error {
      code = '22021';
    }
    const failure = new DriverException(
      `insert into "contacts" ("email", "first_name") values ('jane.doe@example.com', 'Jane') - invalid byte sequence`,
    );
    let sent = '';
    const response = {
      status: () => response,
      type: () => response,
      send: (body: string) => {
        sent = body;
        return response;
      },
    };
    const host = {
      switchToHttp: () => ({
        getResponse: () => response,
        getRequest: () => ({ originalUrl: '/api/v1/tenants/acme/contacts' }),
      }),
    } as unknown as ArgumentsHost;

    new ProblemDetailsFilter().catch(failure, host);

    expect(JSON.parse(sent)).toMatchObject({ status: 500 });
    expect(errors).toHaveLength(1);
    const logged = JSON.stringify(errors);
    expect(logged).toContain('DriverException (22021)');
    expect(logged).not.toMatch(/jane\.doe@example\.com|Jane|insert into/);
    expect(sent).not.toMatch(/jane|insert/i);
  });
});
