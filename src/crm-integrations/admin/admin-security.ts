import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

export interface AdminSecurityOptions {
  /** Where AdminJS is mounted ('/admin'). */
  rootPath: string;
  /** AdminJS's login path ('/admin/login'): a POST there has no session yet, so only its origin is checked. */
  loginPath: string;
  /** The AdminJS session cookie's name: the CSRF token is derived from its value. */
  sessionCookieName: string;
  /** The secret the session cookie is signed with; the CSRF token is an HMAC under it. */
  secret: string;
  /** The service's public URL: a request's Origin must be this origin (or the Host it was sent to). */
  publicUrl: string;
}

/** Served under the root path; AdminJS loads it as a script asset (see `csrfScriptPath`). */
const CSRF_SCRIPT = '/csrf.js';
export const CSRF_HEADER = 'x-csrf-token';

export const csrfScriptPath = (rootPath: string) => `${rootPath}${CSRF_SCRIPT}`;

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/**
 * Security for the AdminJS screens, in front of AdminJS's own router:
 * - helmet's headers with a CSP for AdminJS (its pages need inline scripts and styles), `frame-ancestors 'none'`
 *   and X-Frame-Options DENY, so no other site can frame the admin and click for the user;
 * - CSRF protection for every POST (AdminJS changes state only on POST): the Origin (else Referer) must be this
 *   service, and every POST but the login carries `X-CSRF-Token`, an HMAC of the session cookie under the session
 *   secret. `/admin/csrf.js` hands the token to the page's own script (cookies are SameSite=Lax, so another site
 *   including it gets no session and no token) and adds it to the page's same-origin non-GET requests.
 */
export function adminSecurityMiddleware(options: AdminSecurityOptions): RequestHandler[] {
  const root = options.rootPath.replace(/\/+$/, '');
  const under = (req: Request) => req.path === root || req.path.startsWith(`${root}/`);
  const tokenFor = (sessionCookie: string) =>
    createHmac('sha256', options.secret).update(`csrf:${sessionCookie}`).digest('base64url');
  const allowedOrigins = new Set([new URL(options.publicUrl).origin]);
  const sameOrigin = (req: Request): boolean => {
    const source = req.headers.origin ?? req.headers.referer;
    if (!source || source === 'null') return req.headers.origin === undefined && !req.headers.referer;
    let origin: string;
    try {
      origin = new URL(source).origin;
    } catch {
      return false;
    }
    const host = req.headers.host;
    return (
      allowedOrigins.has(origin) || (!!host && (origin === `http://${host}` || origin === `https://${host}`))
    );
  };

  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // AdminJS's layout boots with inline scripts and styled-components injects styles.
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        fontSrc: ["'self'", 'data:'],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    // Not helmet's no-referrer: with it browsers send `Origin: null` on the page's own form posts.
    referrerPolicy: { policy: 'same-origin' },
    // AdminJS loads its fonts cross-origin without CORP headers.
    crossOriginEmbedderPolicy: false,
  });

  const refuse = (res: Response, reason: string) =>
    res
      .status(403)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title: 'Forbidden', status: 403, detail: reason }));

  const securityHeaders: RequestHandler = (req, res, next) => (under(req) ? headers(req, res, next) : next());

  const csrf: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (!under(req)) return next();
    if (req.method === 'GET' && req.path === csrfScriptPath(root)) {
      const session = cookieValue(req, options.sessionCookieName);
      const crossSite = req.headers['sec-fetch-site'] === 'cross-site';
      const token = session && !crossSite ? tokenFor(session) : '';
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/javascript').send(csrfScript(token));
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    if (!sameOrigin(req)) return refuse(res, 'This request came from another site (Origin/Referer).');
    if (req.path === options.loginPath) return next();
    const session = cookieValue(req, options.sessionCookieName);
    const sent = req.headers[CSRF_HEADER];
    if (session && typeof sent === 'string') {
      const expected = Buffer.from(tokenFor(session));
      const given = Buffer.from(sent);
      if (expected.length === given.length && timingSafeEqual(expected, given)) return next();
    }
    return refuse(res, 'The CSRF token is missing or wrong; reload the page.');
  };

  return [securityHeaders, csrf];
}

/**
 * Mounts handlers on the Express app just before AdminJS's router and an error handler just after it.
 * @adminjs/nestjs moves its router (the layer named 'admin') to the front of the stack when it registers, so
 * handlers added with app.use would run after it; call this once AdminJS is mounted (on application bootstrap).
 */
export function mountAroundAdminRouter(
  app: Express,
  before: RequestHandler[],
  after: ErrorRequestHandler,
): void {
  const handlers = [...before, after];
  for (const handler of handlers) app.use(handler);
  const stack = (app as unknown as { router?: { stack: { name: string }[] } }).router?.stack;
  if (!stack) return;
  const added = stack.splice(stack.length - handlers.length, handlers.length);
  const adminIndex = stack.findIndex((layer) => layer.name === 'admin');
  if (adminIndex < 0) {
    stack.push(...added);
    return;
  }
  stack.splice(adminIndex + 1, 0, added[added.length - 1]);
  stack.splice(adminIndex, 0, ...added.slice(0, -1));
}

/**
 * AdminJS's own refusals (not found, forbidden, invalid) and a request for a resource that does not exist leave
 * its router as errors that would otherwise become 500s; they are 4xx problem+json here, without internals.
 */
export function adminErrorHandler(rootPath: string): ErrorRequestHandler {
  const root = rootPath.replace(/\/+$/, '');
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(req.path === root || req.path.startsWith(`${root}/`)) || res.headersSent) return next(error);
    const failure = error as { name?: string; statusCode?: number; message?: string };
    const message = failure?.message ?? '';
    let status: number | undefined;
    let detail = '';
    if (/^There are no resources with given id/.test(message)) {
      status = 404;
      detail = `There is no resource "${/"([^"]*)"/.exec(message)?.[1] ?? ''}"`;
    } else if (
      ['NotFoundError', 'ForbiddenError', 'ValidationError'].includes(failure?.name ?? '') &&
      typeof failure.statusCode === 'number' &&
      failure.statusCode >= 400 &&
      failure.statusCode < 500
    ) {
      status = failure.statusCode;
      detail = message.split('\n')[0];
    }
    if (status === undefined) return next(error);
    res
      .status(status)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title: TITLES[status] ?? 'Bad Request', status, detail }));
  };
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };

/** Adds the token to the page's same-origin state-changing requests (AdminJS uses XHR through axios). */
function csrfScript(token: string): string {
  return `(function () {
  var token = ${JSON.stringify(token)};
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    try {
      this.__pmCsrf = String(method).toUpperCase() !== 'GET' && new URL(url, location.href).origin === location.origin;
    } catch (e) { this.__pmCsrf = false; }
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__pmCsrf && token) this.setRequestHeader(${JSON.stringify(CSRF_HEADER)}, token);
    return send.apply(this, arguments);
  };
})();
`;
}
