import type { Express, Response } from 'express';

/**
 * AdminJS 7 writes a Google Fonts <link> into its login and layout pages; offline (or behind a strict proxy) every
 * page load asks a host off the machine. The pages fall back to the system font without it, so the standalone
 * service takes the link out of the HTML AdminJS sends. It is done on this app's own response prototype because
 * @adminjs/nestjs moves its router ahead of every other middleware.
 */
const EXTERNAL_FONT_LINK = /<link[^>]+href="https:\/\/fonts\.googleapis\.com[^"]*"[^>]*>/g;

export function serveAdminWithoutExternalFonts(app: Express, rootPath: string): void {
  const response = app.response as { send(this: Response, body?: unknown): Response };
  const send = response.send;
  response.send = function sendWithoutExternalFonts(this: Response, body?: unknown): Response {
    const adminPage = typeof body === 'string' && this.req.originalUrl.startsWith(rootPath);
    return send.call(this, adminPage ? body.replace(EXTERNAL_FONT_LINK, '') : body);
  };
}
