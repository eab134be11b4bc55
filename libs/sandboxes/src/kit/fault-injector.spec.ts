import { FaultInjector } from './fault-injector';

describe('FaultInjector matching', () => {
  it('matches by method and path pattern, fires `times` times, then is gone', () => {
    const faults = new FaultInjector();
    const fault = faults.status(503, { error: 'down' }, undefined, {
      method: 'get',
      path: '/api/v2/persons/:id',
      times: 2,
    });
    expect(faults.take('POST', '/api/v2/persons/1')).toBeUndefined();
    expect(faults.take('GET', '/api/v2/organizations/1')).toBeUndefined();
    expect(faults.take('GET', '/api/v2/persons/1')?.id).toBe(fault.id);
    expect(faults.take('GET', '/api/v2/persons/2')?.id).toBe(fault.id);
    expect(faults.take('GET', '/api/v2/persons/3')).toBeUndefined();
    expect(fault.fired).toBe(2);
    expect(faults.list().requests).toEqual([]);
  });

  it('matches any request when no method or path is given, and RegExp paths', () => {
    const faults = new FaultInjector();
    faults.dropConnection();
    expect(faults.take('DELETE', '/anything')?.spec.kind).toBe('dropConnection');
    faults.latency(10, { path: /^\/oauth\// });
    expect(faults.take('POST', '/api/x')).toBeUndefined();
    expect(faults.take('POST', '/oauth/token')?.spec).toMatchObject({ kind: 'latency', ms: 10 });
  });

  it('lets `after` matching requests pass first, then fires in queue order', () => {
    const faults = new FaultInjector();
    const storm = faults.rateLimitStorm(2, 3, { after: 1 });
    const later = faults.hang(5000);
    expect(faults.take('GET', '/a')?.id).toBe(later.id);
    expect(faults.take('GET', '/a')?.id).toBe(storm.id);
    expect(faults.take('GET', '/a')?.id).toBe(storm.id);
    expect(faults.take('GET', '/a')).toBeUndefined();
  });

  it('clear(id) removes one fault and clear() all', () => {
    const faults = new FaultInjector();
    const a = faults.status(500);
    faults.status(502);
    faults.clear(a.id);
    expect(faults.list().requests.map((f) => f.spec)).toEqual([expect.objectContaining({ status: 502 })]);
    faults.clear();
    expect(faults.take('GET', '/')).toBeUndefined();
  });

  it('reports per-record validation errors for matching records only, within `times`', () => {
    const faults = new FaultInjector();
    faults.recordErrors(
      { field: 'Email', equals: 'bad@example.com' },
      { message: 'invalid email', field: 'Email', times: 1 },
    );
    faults.recordErrors(
      (record, objectType) => objectType === 'contacts' && record.fail === true,
      'rejected',
    );
    faults.recordErrors(
      { object: 'persons', field: 'emails', contains: 'spam@' },
      { message: 'spam', code: 'SPAM' },
    );
    faults.recordErrors({ field: 'properties.email', equals: 'nested@x.example' }, 'nested');
    expect(faults.recordError('Contact', { Email: 'ok@example.com' })).toBeUndefined();
    expect(faults.recordError('Contact', { Email: 'bad@example.com' })).toEqual({
      message: 'invalid email',
      field: 'Email',
      code: undefined,
    });
    expect(faults.recordError('Contact', { Email: 'bad@example.com' })).toBeUndefined();
    expect(faults.recordError('contacts', { fail: true })?.message).toBe('rejected');
    expect(faults.recordError('companies', { fail: true })).toBeUndefined();
    expect(faults.recordError('persons', { emails: [{ value: 'spam@x.example' }] })?.code).toBe('SPAM');
    expect(faults.recordError('organizations', { emails: [{ value: 'spam@x.example' }] })).toBeUndefined();
    expect(faults.recordError('contacts', { properties: { email: 'nested@x.example' } })?.message).toBe(
      'nested',
    );
  });
});
