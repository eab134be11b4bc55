import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { compileRoutePattern } from './request-counter';

/**
 * Faults queued per sandbox instance and applied by an express middleware before the CRM routes. Each fault
 * matches by method and path pattern (or any request), lets `after` matching requests pass first, then fires
 * `times` times (Infinity for "until cleared").
 */
export interface FaultMatchOptions {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Express-style path pattern (`/api/v2/persons/:id`, `*rest`) or a RegExp on the path; any when omitted. */
  path?: string | RegExp;
  /** How many matching requests the fault affects (default 1). */
  times?: number;
  /** Matching requests to let through before the fault starts (default 0). */
  after?: number;
}

/** A response the CRM module builds (its 429 body and headers, say). */
export interface FaultResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RateLimitResponder = (retryAfterSeconds: number, req: Request) => FaultResponse;

/** Serializable fault description, used by the control API (POST /__sandbox/faults) and `add()`. */
export type FaultSpec = FaultMatchOptions &
  (
    | { kind: 'latency'; ms: number }
    | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
    | { kind: 'rateLimitStorm'; retryAfterSeconds: number }
    | { kind: 'dropConnection' }
    | { kind: 'hang'; ms: number }
    | { kind: 'expireAccessTokens' }
    | { kind: 'revokeRefreshTokens' }
  );

export type FaultKind = FaultSpec['kind'];

/** A queued fault; `fired` and `remaining` are live. */
export interface InjectedFault {
  readonly id: string;
  readonly spec: FaultSpec;
  /** Times the fault has fired. */
  fired: number;
  /** Times it will still fire (Infinity for unlimited). */
  remaining: number;
  /** Matching requests seen so far (including the ones let through by `after`). */
  seen: number;
}

/** Which records a per-record validation fault hits: a function, or a serializable field test. */
export type RecordPredicate =
  | ((record: Record<string, unknown>, objectType: string) => boolean)
  | {
      object?: string;
      /** Field name as the client sent it; a dotted path reaches nested values (`properties.email`). */
      field: string;
      equals?: unknown;
      /** Substring of the value (non-strings are matched on their JSON text, e.g. Pipedrive's `emails` array). */
      contains?: string;
    };

export interface RecordErrorSpec {
  message: string;
  /** Field the error names (Salesforce `fields`, HubSpot `context.propertyName`, ...). */
  field?: string;
  /** CRM error code to report (e.g. FIELD_CUSTOM_VALIDATION_EXCEPTION, INVALID_EMAIL); the CRM picks a default. */
  code?: string;
  /** How many records it fails (default Infinity: every match until cleared). */
  times?: number;
}

export interface RecordFault {
  readonly id: string;
  readonly predicate: RecordPredicate;
  readonly error: RecordErrorSpec;
  fired: number;
  remaining: number;
}

export interface RecordFaultError {
  message: string;
  field?: string;
  code?: string;
}

export interface FaultInjectorHooks {
  /** The CRM's 429 (or 403) response for a rate-limit storm; a plain 429 JSON body by default. */
  rateLimitResponse?: RateLimitResponder;
  expireAccessTokens?: () => void;
  revokeRefreshTokens?: () => void;
}

interface QueuedFault extends InjectedFault {
  matcher: (method: string, path: string) => boolean;
}

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

export class FaultInjector {
  private readonly queue: QueuedFault[] = [];
  private readonly recordFaultQueue: RecordFault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1;
  /** Set by the CRM module to answer rate-limit storms in its own format. */
  rateLimitResponse: RateLimitResponder;

  constructor(private readonly hooks: FaultInjectorHooks = {}) {
    this.rateLimitResponse =
      hooks.rateLimitResponse ??
      ((retryAfterSeconds) => ({
        status: 429,
        body: { error: 'Too Many Requests' },
        headers: { 'retry-after': String(retryAfterSeconds) },
      }));
  }

  /** Adds `ms` of delay before the request is handled normally. */
  latency(ms: number, options: FaultMatchOptions = {}): InjectedFault {
    return this.add({ ...options, kind: 'latency', ms });
  }

  /** Answers with `status` (e.g. 500, 503) instead of the route. */
  status(
    status: number,
    body?: unknown,
    headers?: Record<string, string>,
    options: FaultMatchOptions = {},
  ): InjectedFault {
    return this.add({ ...options, kind: 'status', status, body, headers });
  }

  /** `times` rate-limit refusals with `Retry-After: retryAfterSeconds`, in the CRM's own format. */
  rateLimitStorm(
    times: number,
    retryAfterSeconds: number,
    options: Omit<FaultMatchOptions, 'times'> = {},
  ): InjectedFault {
    return this.add({ ...options, times, kind: 'rateLimitStorm', retryAfterSeconds });
  }

  /** Destroys the socket without any response (the client sees ECONNRESET / "socket hang up"). */
  dropConnection(options: FaultMatchOptions = {}): InjectedFault {
    return this.add({ ...options, kind: 'dropConnection' });
  }

  /** Holds the request for `ms` then handles it normally: use a value past the client's timeout. */
  hang(ms: number, options: FaultMatchOptions = {}): InjectedFault {
    return this.add({ ...options, kind: 'hang', ms });
  }

  /** When a matching request arrives, expires every access token first (the request then gets the CRM's 401). */
  expireAccessTokens(options: FaultMatchOptions = {}): InjectedFault {
    return this.add({ ...options, kind: 'expireAccessTokens' });
  }

  /** When a matching request arrives, revokes every refresh token (next refresh gets invalid_grant). */
  revokeRefreshTokens(options: FaultMatchOptions = {}): InjectedFault {
    return this.add({ ...options, kind: 'revokeRefreshTokens' });
  }

  add(spec: FaultSpec): InjectedFault {
    const fault: QueuedFault = {
      id: `fault-${this.nextId++}`,
      spec,
      fired: 0,
      remaining: spec.times ?? 1,
      seen: 0,
      matcher: FaultInjector.matcher(spec.method, spec.path),
    };
    this.queue.push(fault);
    return fault;
  }

  /** Per-record validation failures inside batches; the CRM module asks `recordError()` for each record. */
  recordErrors(predicate: RecordPredicate, error: RecordErrorSpec | string): RecordFault {
    const spec = typeof error === 'string' ? { message: error } : error;
    const fault: RecordFault = {
      id: `fault-${this.nextId++}`,
      predicate,
      error: spec,
      fired: 0,
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
    };
    this.recordFaultQueue.push(fault);
    return fault;
  }

  /** Called by the CRM module for each record it is about to write; returns the error to report, if any. */
  recordError(objectType: string, record: Record<string, unknown>): RecordFaultError | undefined {
    for (const fault of this.recordFaultQueue) {
      if (fault.remaining <= 0 || !FaultInjector.recordMatches(fault.predicate, record, objectType)) continue;
      fault.remaining--;
      fault.fired++;
      return { message: fault.error.message, field: fault.error.field, code: fault.error.code };
    }
    return undefined;
  }

  /** Faults still queued (request faults and record faults). */
  list(): { requests: InjectedFault[]; records: RecordFault[] } {
    return {
      requests: this.queue.map(({ id, spec, fired, remaining, seen }) => ({
        id,
        spec,
        fired,
        remaining,
        seen,
      })),
      records: [...this.recordFaultQueue],
    };
  }

  /** Removes one fault by id, or all of them. */
  clear(id?: string): void {
    if (id === undefined) {
      this.queue.length = 0;
      this.recordFaultQueue.length = 0;
      return;
    }
    const index = this.queue.findIndex((f) => f.id === id);
    if (index >= 0) this.queue.splice(index, 1);
    const recordIndex = this.recordFaultQueue.findIndex((f) => f.id === id);
    if (recordIndex >= 0) this.recordFaultQueue.splice(recordIndex, 1);
  }

  /** Cancels pending hang/latency timers (the server is stopping). */
  cancelTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** The first fault due for this request, counted as fired; undefined when none applies. */
  take(method: string, path: string): InjectedFault | undefined {
    let due: QueuedFault | undefined;
    for (const fault of this.queue) {
      if (fault.remaining <= 0 || !fault.matcher(method, path)) continue;
      fault.seen++;
      if (!due && fault.seen > (fault.spec.after ?? 0)) due = fault;
    }
    if (!due) return undefined;
    due.remaining--;
    due.fired++;
    if (due.remaining <= 0) this.queue.splice(this.queue.indexOf(due), 1);
    return due;
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const fault = this.take(req.method, req.path);
      if (!fault) return next();
      void this.apply(fault.spec, req, res, next);
    };
  }

  private async apply(spec: FaultSpec, req: Request, res: Response, next: NextFunction): Promise<void> {
    switch (spec.kind) {
      case 'latency':
      case 'hang':
        await sleep(spec.ms, this.timers);
        if (!req.socket.destroyed) next();
        return;
      case 'status':
        FaultInjector.send(res, { status: spec.status, body: spec.body, headers: spec.headers });
        return;
      case 'rateLimitStorm': {
        const response = this.rateLimitResponse(spec.retryAfterSeconds, req);
        const headers = { ...response.headers };
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after'))
          headers['retry-after'] = String(spec.retryAfterSeconds);
        FaultInjector.send(res, { ...response, headers });
        return;
      }
      case 'dropConnection':
        req.socket.destroy();
        return;
      case 'expireAccessTokens':
        this.hooks.expireAccessTokens?.();
        next();
        return;
      case 'revokeRefreshTokens':
        this.hooks.revokeRefreshTokens?.();
        next();
        return;
    }
  }

  static send(res: Response, response: FaultResponse): void {
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.status(response.status);
    if (response.body === undefined) res.end();
    else if (typeof response.body === 'string') res.send(response.body);
    else res.json(response.body);
  }

  private static matcher(method: string | undefined, path: string | RegExp | undefined) {
    const upper = method?.toUpperCase();
    const regex =
      path === undefined ? undefined : typeof path === 'string' ? compileRoutePattern(path) : path;
    return (requestMethod: string, requestPath: string) =>
      (upper === undefined || upper === requestMethod.toUpperCase()) &&
      (regex === undefined || regex.test(requestPath));
  }

  /** Reads `field` from the record; a dotted path (`properties.email`) walks nested objects. */
  private static fieldValue(record: Record<string, unknown>, field: string): unknown {
    if (field in record) return record[field];
    let current: unknown = record;
    for (const part of field.split('.')) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    return current;
  }

  private static recordMatches(
    predicate: RecordPredicate,
    record: Record<string, unknown>,
    objectType: string,
  ): boolean {
    if (typeof predicate === 'function') return predicate(record, objectType);
    if (predicate.object !== undefined && predicate.object.toLowerCase() !== objectType.toLowerCase())
      return false;
    const value = FaultInjector.fieldValue(record, predicate.field);
    if (predicate.equals !== undefined && value !== predicate.equals) return false;
    if (predicate.contains !== undefined) {
      const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
      if (!text.includes(predicate.contains)) return false;
    }
    return predicate.equals !== undefined || predicate.contains !== undefined || value !== undefined;
  }
}
