import type { Request, RequestHandler } from 'express';

/**
 * Counts every request by `METHOD /route/pattern` (the express route path, e.g.
 * `GET /services/data/:version/query`), so tests and the benchmark can assert how many API calls a sync made.
 *
 * Counting happens when the request arrives (not when it finishes), so requests answered by an injected fault
 * (429 storms, dropped connections) are counted too, and a test reading the counter right after a response sees
 * it already included.
 *
 * It also gauges concurrency: a request is in flight from its arrival until its response is finished or its
 * connection closes, and the counter keeps the most requests that were ever in flight at once, so a test can assert
 * that a client never exceeds the concurrency it declares.
 */
export interface RequestCounterSnapshot {
  total: number;
  byRoute: Record<string, number>;
  /** Requests that have arrived and are not answered yet. */
  inFlight: number;
  /** The most requests in flight at once since the last reset. */
  maxInFlight: number;
}

interface RoutePattern {
  method: string;
  pattern: string;
  regex: RegExp;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles an express-style path (`:param` segments, `*rest` wildcard) to a regex matching whole paths. */
export function compileRoutePattern(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith('*')) return '.*';
      // `:id` or `:id.json`-like segments: the parameter stops at the next literal character.
      return segment
        .split(/(:[A-Za-z_][A-Za-z0-9_]*)/)
        .map((part) => (part.startsWith(':') ? '[^/]+?' : escapeRegex(part)))
        .join('');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

export class RequestCounter {
  private readonly patterns: RoutePattern[] = [];
  private readonly counts = new Map<string, number>();
  private totalCount = 0;
  private inFlightCount = 0;
  private peakInFlight = 0;

  /** Makes a route known so its requests are counted under its pattern; done by SandboxServer.route(). */
  register(method: string, pattern: string): void {
    const upper = method.toUpperCase();
    if (this.patterns.some((p) => p.method === upper && p.pattern === pattern)) return;
    this.patterns.push({ method: upper, pattern, regex: compileRoutePattern(pattern) });
  }

  /** The key a request is counted under: the first registered pattern that matches, else the literal path. */
  keyFor(method: string, path: string): string {
    const upper = method.toUpperCase();
    const matched = this.patterns.find(
      (p) => (p.method === upper || p.method === 'ALL') && p.regex.test(path),
    );
    return `${upper} ${matched ? matched.pattern : path}`;
  }

  record(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.totalCount++;
  }

  /** Requests counted under `key` ("GET /api/v2/persons"). */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Sum over all keys that match `predicate` (e.g. every PATCH). */
  countWhere(predicate: (key: string) => boolean): number {
    let sum = 0;
    for (const [key, value] of this.counts) if (predicate(key)) sum += value;
    return sum;
  }

  total(): number {
    return this.totalCount;
  }

  /** Requests that have arrived and are not answered yet. */
  inFlight(): number {
    return this.inFlightCount;
  }

  /** The most requests that were in flight at once since the last reset. */
  maxInFlight(): number {
    return this.peakInFlight;
  }

  /** Marks a request as arrived; the returned function marks it done (calling it again does nothing). */
  enter(): () => void {
    this.inFlightCount++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlightCount);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlightCount--;
    };
  }

  snapshot(): RequestCounterSnapshot {
    return {
      total: this.totalCount,
      byRoute: Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1))),
      inFlight: this.inFlightCount,
      maxInFlight: this.peakInFlight,
    };
  }

  /** Clears the counts; the peak restarts from the requests still in flight (they are not forgotten). */
  reset(): void {
    this.counts.clear();
    this.totalCount = 0;
    this.peakInFlight = this.inFlightCount;
  }

  middleware(): RequestHandler {
    return (req: Request, res, next) => {
      this.record(this.keyFor(req.method, req.path));
      const leave = this.enter();
      // 'finish': the answer is handed to the network; 'close': the connection dropped before an answer (or after it).
      res.once('finish', leave);
      res.once('close', leave);
      next();
    };
  }
}
