import { RequestCounter, compileRoutePattern } from './request-counter';

describe('RequestCounter', () => {
  it('counts requests under the first registered route pattern that matches', () => {
    const counter = new RequestCounter();
    counter.register('get', '/api/v2/persons/search');
    counter.register('get', '/api/v2/persons/:id');
    counter.register('get', '/services/data/:version/query');
    for (const [method, path] of [
      ['GET', '/api/v2/persons/search'],
      ['GET', '/api/v2/persons/17'],
      ['GET', '/api/v2/persons/18/'],
      ['GET', '/services/data/v59.0/query'],
      ['POST', '/api/v2/persons/17'],
    ]) {
      counter.record(counter.keyFor(method, path));
    }
    expect(counter.snapshot()).toEqual({
      total: 5,
      byRoute: {
        'GET /api/v2/persons/:id': 2,
        'GET /api/v2/persons/search': 1,
        'GET /services/data/:version/query': 1,
        'POST /api/v2/persons/17': 1,
      },
      inFlight: 0,
      maxInFlight: 0,
    });
    expect(counter.count('GET /api/v2/persons/:id')).toBe(2);
    expect(counter.countWhere((key) => key.startsWith('GET '))).toBe(4);
    counter.reset();
    expect(counter.total()).toBe(0);
    expect(counter.count('GET /api/v2/persons/:id')).toBe(0);
  });

  it('compiles params, literal suffixes and wildcards', () => {
    expect(compileRoutePattern('/sobjects/:type/:id').test('/sobjects/Contact/003x')).toBe(true);
    expect(compileRoutePattern('/sobjects/:type/:id').test('/sobjects/Contact')).toBe(false);
    expect(compileRoutePattern('/files/*rest').test('/files/a/b/c')).toBe(true);
    expect(compileRoutePattern('/v1/a.b').test('/v1/aXb')).toBe(false);
  });

  it('gauges the requests in flight and keeps the most there were at once until a reset', () => {
    const counter = new RequestCounter();
    const first = counter.enter();
    const second = counter.enter();
    second();
    second();
    const third = counter.enter();
    expect(counter.inFlight()).toBe(2);
    expect(counter.maxInFlight()).toBe(2);
    first();
    third();
    expect(counter.snapshot()).toMatchObject({ inFlight: 0, maxInFlight: 2 });
    const stillOpen = counter.enter();
    counter.reset();
    expect(counter.maxInFlight()).toBe(1);
    stillOpen();
    expect(counter.inFlight()).toBe(0);
  });
});
