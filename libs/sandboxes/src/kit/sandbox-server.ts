import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { z } from 'zod';
import { SandboxClock } from './clock';
import { FakePersonGenerator } from './fake-people';
import { FaultInjector, type FaultResponse, type FaultSpec, type RateLimitResponder } from './fault-injector';
import { OAuthServer, type OAuthServerConfig } from './oauth-server';
import { SeededRandom } from './random';
import { RateLimiter, type RateLimiterOptions } from './rate-limiter';
import { RecordStore } from './record-store';
import { RequestCounter } from './request-counter';
import { WebhookDispatcher, type WebhookDispatcherOptions, type WebhookFaults } from './webhook-dispatcher';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface SandboxServerOptions {
  /** Short CRM name ("salesforce", "hubspot", "pipedrive"); shown in the control API and logs. */
  name: string;
  oauth: OAuthServerConfig;
  /** Rate limits; counted but not enforced unless `enforce: true` (see RateLimiter). */
  rateLimit?: RateLimiterOptions;
  clock?: SandboxClock;
  /** Seed of the deterministic random source and fake-person generator (default 1). */
  seed?: number;
  webhooks?: WebhookDispatcherOptions;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Largest request body accepted (default 50mb, bulk uploads included). */
  bodyLimit?: string;
  /** The CRM's reply to an unknown route (default 404 `{error: "Not Found"}`). */
  notFoundResponse?: (req: Request) => FaultResponse;
  /** The CRM's reply to an unexpected exception in a route (default 500 `{error: message}`). */
  errorResponse?: (error: unknown, req: Request) => FaultResponse;
  /** The CRM's 429 for injected rate-limit storms. */
  rateLimitResponse?: RateLimitResponder;
}

/** What `POST /__sandbox/seed` and `seed()` pass to the CRM module's seed handler. */
export interface SeedRequest {
  /** Object type to seed (CRM-specific names: "contacts", "persons", "Contact"); the CRM's default when omitted. */
  object?: string;
  count: number;
  /** Give every seeded record the same modification timestamp (the "5,000 records at one instant" case). */
  sameTimestamp?: boolean;
  [option: string]: unknown;
}

export interface SandboxInfo {
  name: string;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  now: string;
  clockFrozen: boolean;
  rateLimit: Readonly<RateLimiterOptions>;
}

const faultMatchShape = {
  method: z.string().optional(),
  path: z.string().optional(),
  times: z.number().positive().optional(),
  after: z.number().int().nonnegative().optional(),
};

const faultRequestSchema = z.discriminatedUnion('kind', [
  z.object({ ...faultMatchShape, kind: z.literal('latency'), ms: z.number().nonnegative() }),
  z.object({
    ...faultMatchShape,
    kind: z.literal('status'),
    status: z.number().int().min(100).max(599),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    ...faultMatchShape,
    kind: z.literal('rateLimitStorm'),
    retryAfterSeconds: z.number().nonnegative(),
  }),
  z.object({ ...faultMatchShape, kind: z.literal('dropConnection') }),
  z.object({ ...faultMatchShape, kind: z.literal('hang'), ms: z.number().nonnegative() }),
  z.object({ ...faultMatchShape, kind: z.literal('expireAccessTokens') }),
  z.object({ ...faultMatchShape, kind: z.literal('revokeRefreshTokens') }),
  z.object({
    kind: z.literal('recordErrors'),
    object: z.string().optional(),
    field: z.string(),
    equals: z.unknown().optional(),
    contains: z.string().optional(),
    message: z.string(),
    errorField: z.string().optional(),
    code: z.string().optional(),
    times: z.number().positive().optional(),
  }),
]);

const clockRequestSchema = z.object({
  set: z.union([z.string(), z.number()]).optional(),
  advanceMs: z.number().optional(),
  freeze: z.boolean().optional(),
});

const rateLimitRequestSchema = z.object({
  limit: z.number().positive().optional(),
  windowMs: z.number().positive().optional(),
  dailyLimit: z.number().positive().optional(),
  enforce: z.boolean().optional(),
  resetUsage: z.boolean().optional(),
});

const purgeRequestSchema = z.object({
  object: z.string().optional(),
  ids: z.array(z.string()).min(1),
});

/** What `POST /__sandbox/purge` takes: records to remove behind every client's back (no event, no recycle bin). */
export interface PurgeRequest {
  /** Object type (CRM-specific names); the CRM's contact object when omitted. */
  object?: string;
  ids: string[];
}

const seedRequestSchema = z.looseObject({
  object: z.string().optional(),
  count: z.number().int().nonnegative(),
  sameTimestamp: z.boolean().optional(),
});

/**
 * One CRM sandbox: an express app and http.Server with the shared parts wired in this order:
 * control API (`/__sandbox/*`, never counted or faulted) → request counter → fault injector → CRM routes
 * (registered through `route()`/`get()`/... before `start()`) → the CRM's 404 and error replies.
 * CRM modules extend it (or wrap it) and add typed staging helpers.
 */
export class SandboxServer {
  readonly name: string;
  readonly app: Express;
  readonly clock: SandboxClock;
  readonly counters = new RequestCounter();
  readonly faults: FaultInjector;
  readonly oauth: OAuthServer;
  readonly rateLimiter: RateLimiter;
  readonly webhooks: WebhookDispatcher;
  readonly random: SeededRandom;
  readonly people: FakePersonGenerator;
  /** CRM-specific control routes under `/__sandbox` (never counted or faulted), e.g. Salesforce's change events. */
  readonly controlExtensions = express.Router();
  private server: http.Server | undefined;
  private url: string | undefined;
  private finalized = false;
  private readonly resetHandlers: Array<() => void> = [];
  private seedHandler: ((request: SeedRequest) => unknown) | undefined;
  private purgeHandler: ((request: PurgeRequest) => { purged: string[] }) | undefined;
  private readonly host: string;

  constructor(protected readonly options: SandboxServerOptions) {
    this.name = options.name;
    this.host = options.host ?? '127.0.0.1';
    this.clock = options.clock ?? new SandboxClock();
    this.random = new SeededRandom(options.seed ?? 1);
    this.people = new FakePersonGenerator(new SeededRandom((options.seed ?? 1) + 7919));
    this.oauth = new OAuthServer(options.oauth, this.clock);
    this.rateLimiter = new RateLimiter(options.rateLimit);
    this.webhooks = new WebhookDispatcher(options.webhooks);
    this.faults = new FaultInjector({
      rateLimitResponse: options.rateLimitResponse,
      expireAccessTokens: () => this.oauth.expireAllAccessTokens(),
      revokeRefreshTokens: () => this.oauth.revokeAllRefreshTokens(),
    });

    this.app = express();
    this.app.disable('x-powered-by');
    this.app.set('etag', false);
    this.app.set('query parser', 'extended');
    const limit = options.bodyLimit ?? '50mb';
    this.app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
    this.app.use(express.urlencoded({ extended: false, limit }));
    this.app.use(express.text({ limit, type: ['text/csv', 'text/plain'] }));
    this.app.use('/__sandbox', this.controlRouter(), this.controlExtensions);
    this.app.use(this.counters.middleware());
    this.app.use(this.faults.middleware());
    this.oauth.mount((method, path, handler) => this.route(method, path, handler));
  }

  /** Registers a CRM route; its requests are counted as `METHOD path`. Register every route before start(). */
  route(method: HttpMethod, path: string, ...handlers: RequestHandler[]): this {
    if (this.finalized)
      throw new Error(`${this.name} sandbox: route ${method} ${path} registered after start()`);
    this.counters.register(method, path);
    this.app[method](path, ...handlers);
    return this;
  }

  get(path: string, ...handlers: RequestHandler[]): this {
    return this.route('get', path, ...handlers);
  }

  post(path: string, ...handlers: RequestHandler[]): this {
    return this.route('post', path, ...handlers);
  }

  put(path: string, ...handlers: RequestHandler[]): this {
    return this.route('put', path, ...handlers);
  }

  patch(path: string, ...handlers: RequestHandler[]): this {
    return this.route('patch', path, ...handlers);
  }

  delete(path: string, ...handlers: RequestHandler[]): this {
    return this.route('delete', path, ...handlers);
  }

  /** A record store whose tombstones take their time from this sandbox's clock; cleared by reset() is up to the CRM. */
  createStore<T extends { id: string }>(name: string): RecordStore<T> {
    return new RecordStore<T>(name, { clock: this.clock });
  }

  /** The CRM module's data reset (clear stores, reseed); run by reset() and POST /__sandbox/reset. */
  onReset(handler: () => void): void {
    this.resetHandlers.push(handler);
  }

  /** The CRM module's seeding, run by seed() and POST /__sandbox/seed; returns what the control API answers. */
  onSeed(handler: (request: SeedRequest) => unknown): void {
    this.seedHandler = handler;
  }

  /** The CRM module's purge, run by POST /__sandbox/purge: records vanish with no deletion any API reports. */
  onPurge(handler: (request: PurgeRequest) => { purged: string[] }): void {
    this.purgeHandler = handler;
  }

  seed(request: SeedRequest): unknown {
    if (!this.seedHandler) throw new Error(`${this.name} sandbox has no seed handler`);
    return this.seedHandler(request);
  }

  /**
   * Clears data (CRM handlers), counters, faults, webhook deliveries and rate-limit usage. OAuth tokens and the
   * clock survive unless asked, so a connected client keeps working across a test reset.
   */
  reset(options: { oauth?: boolean; clock?: boolean } = {}): void {
    // Random sources and the clock first, so a CRM handler that reseeds demo data gets the same data again.
    this.random.reset();
    this.people.reset();
    if (options.clock) this.clock.reset();
    if (options.oauth) this.oauth.reset();
    for (const handler of this.resetHandlers) handler();
    this.counters.reset();
    this.faults.clear();
    this.webhooks.reset();
    this.rateLimiter.reset();
  }

  get baseUrl(): string {
    if (!this.url) throw new Error(`${this.name} sandbox is not started`);
    return this.url;
  }

  get started(): boolean {
    return this.server !== undefined;
  }

  /** Listens on `port` (0 = a free port) at 127.0.0.1; resolves to the base URL (no trailing slash). */
  async start(port = 0): Promise<string> {
    if (this.server) return this.baseUrl;
    this.finalize();
    const server = http.createServer(this.app);
    // Keep-alive sockets must not hold stop() open, and slow hang faults must not be cut by Node's defaults.
    server.keepAliveTimeout = 5_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.url = `http://${this.host}:${address.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.faults.cancelTimers();
    this.webhooks.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  info(): SandboxInfo {
    return {
      name: this.name,
      baseUrl: this.baseUrl,
      clientId: this.oauth.clientId,
      clientSecret: this.oauth.clientSecret,
      authorizeUrl: `${this.baseUrl}${this.oauth.config.authorizePath}`,
      tokenUrl: `${this.baseUrl}${this.oauth.config.tokenPath}`,
      now: this.clock.now().toISOString(),
      clockFrozen: this.clock.isFrozen,
      rateLimit: this.rateLimiter.config,
    };
  }

  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    this.app.use((req: Request, res: Response) => {
      FaultInjector.send(
        res,
        this.options.notFoundResponse?.(req) ?? { status: 404, body: { error: 'Not Found' } },
      );
    });
    this.app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(error);
      const status = (error as { status?: unknown }).status;
      // Body-parser errors (malformed JSON, too large) carry their own 4xx status.
      if (typeof status === 'number' && status >= 400 && status < 500 && !this.options.errorResponse) {
        return FaultInjector.send(res, { status, body: { error: (error as Error).message } });
      }
      const reply = this.options.errorResponse?.(error, req) ?? {
        status: 500,
        body: { error: error instanceof Error ? error.message : String(error) },
      };
      FaultInjector.send(res, reply);
    });
  }

  private controlRouter(): express.Router {
    const router = express.Router();
    const parse = <S extends z.ZodType>(schema: S, req: Request, res: Response): z.infer<S> | undefined => {
      const result = schema.safeParse(req.body ?? {});
      if (result.success) return result.data;
      res.status(400).json({ error: 'invalid control request', issues: result.error.issues });
      return undefined;
    };

    router.get('/', (_req, res) => void res.json(this.info()));
    router.get('/counters', (_req, res) => void res.json(this.counters.snapshot()));
    router.post('/counters/reset', (_req, res) => {
      this.counters.reset();
      res.json(this.counters.snapshot());
    });
    router.get('/faults', (_req, res) => void res.json(this.faults.list()));
    router.post('/faults', (req, res) => {
      const spec = parse(faultRequestSchema, req, res);
      if (!spec) return;
      if (spec.kind === 'recordErrors') {
        const { object, field, equals, contains, message, errorField, code, times } = spec;
        const fault = this.faults.recordErrors(
          { object, field, equals, contains },
          { message, field: errorField ?? field, code, times },
        );
        return void res.status(201).json({ id: fault.id });
      }
      const fault = this.faults.add(spec as FaultSpec);
      res.status(201).json({ id: fault.id });
    });
    router.delete('/faults', (_req, res) => {
      this.faults.clear();
      res.status(204).end();
    });
    router.delete('/faults/:id', (req, res) => {
      this.faults.clear(req.params.id);
      res.status(204).end();
    });
    router.get(
      '/clock',
      (_req, res) => void res.json({ now: this.clock.now().toISOString(), frozen: this.clock.isFrozen }),
    );
    router.post('/clock', (req, res) => {
      const body = parse(clockRequestSchema, req, res);
      if (!body) return;
      if (body.freeze === true) this.clock.freeze();
      if (body.set !== undefined) this.clock.set(body.set);
      if (body.advanceMs !== undefined) this.clock.advance(body.advanceMs);
      if (body.freeze === false) this.clock.unfreeze();
      res.json({ now: this.clock.now().toISOString(), frozen: this.clock.isFrozen });
    });
    router.post('/rate-limit', (req, res) => {
      const body = parse(rateLimitRequestSchema, req, res);
      if (!body) return;
      const { resetUsage, ...limits } = body;
      this.rateLimiter.configure(limits, resetUsage ?? false);
      res.json(this.rateLimiter.config);
    });
    router.post('/oauth/tokens', (req, res) => {
      const body = (req.body ?? {}) as { accountId?: string; scopes?: string[] };
      const issued = this.oauth.issueTokensDirectly({ accountId: body.accountId, scopes: body.scopes });
      res.status(201).json(issued);
    });
    router.post(
      '/oauth/expire-access-tokens',
      (_req, res) => void res.json({ expired: this.oauth.expireAllAccessTokens() }),
    );
    router.post(
      '/oauth/revoke-refresh-tokens',
      (_req, res) => void res.json({ revoked: this.oauth.revokeAllRefreshTokens() }),
    );
    router.post('/oauth/revoke-all', (_req, res) => {
      this.oauth.revokeAll();
      res.status(204).end();
    });
    router.get('/webhooks', (_req, res) => void res.json({ subscriptions: this.webhooks.subscriptions() }));
    router.get('/webhooks/faults', (_req, res) => void res.json(this.webhooks.faults()));
    router.post('/webhooks/faults', (req, res) => {
      const faults = webhookFaultsFrom(req.body);
      if (typeof faults === 'string') return void res.status(400).json({ error: faults });
      this.webhooks.setFaults(faults);
      res.status(200).json(this.webhooks.faults());
    });
    router.delete('/webhooks/faults', (_req, res) => {
      this.webhooks.setFaults({});
      res.status(204).end();
    });
    router.get(
      '/webhooks/deliveries',
      (_req, res) => void res.json({ deliveries: this.webhooks.deliveries() }),
    );
    router.post('/reset', (req, res) => {
      const body = (req.body ?? {}) as { oauth?: boolean; clock?: boolean };
      this.reset({ oauth: body.oauth === true, clock: body.clock === true });
      res.status(204).end();
    });
    router.post('/purge', (req, res) => {
      const body = parse(purgeRequestSchema, req, res);
      if (!body) return;
      if (!this.purgeHandler)
        return void res.status(501).json({ error: `${this.name} sandbox cannot purge` });
      res.json(this.purgeHandler(body));
    });
    router.post('/seed', async (req, res) => {
      const body = parse(seedRequestSchema, req, res);
      if (!body) return;
      if (!this.seedHandler) return void res.status(501).json({ error: `${this.name} sandbox cannot seed` });
      res.status(201).json({ result: (await this.seedHandler(body as SeedRequest)) ?? null });
    });
    return router;
  }
}

/** The body of `POST /__sandbox/webhooks/faults`, or what is wrong with it. */
function webhookFaultsFrom(body: unknown): WebhookFaults | string {
  if (typeof body !== 'object' || body === null) return 'expected a JSON object';
  const input = body as Record<string, unknown>;
  const faults: WebhookFaults = {};
  for (const [name, max] of [
    ['delayMs', 600_000],
    ['lossRate', 1],
    ['duplicateRate', 1],
    ['reorderWindow', 1000],
    ['seed', 2 ** 31],
  ] as const) {
    const value = input[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      return `${name} must be a number from 0 to ${max}`;
    }
    faults[name] = value;
  }
  return faults;
}
