import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * The cookie that binds an OAuth state to the browser that started the flow. The API hands the PenguinMails
 * backend a first-party start link (GET /oauth/:provider/start?state=…); the first browser to open it gets this
 * HttpOnly, SameSite=Lax cookie and is sent on to the CRM. The callback is accepted only with the cookie, so an
 * authorization code obtained in any other browser (another tenant's, an attacker's) cannot complete the flow.
 * One cookie per state, so two flows started in one browser do not overwrite each other.
 */
export function bindingCookieName(state: string): string {
  return `pm_crm_oauth_${createHash('sha256').update(state, 'utf8').digest('hex').slice(0, 16)}`;
}

const cookiePath = (provider: string) => `/oauth/${provider}/`;

export function setBindingCookie(
  res: Response,
  input: { provider: string; state: string; binding: string; secure: boolean; maxAgeMs: number },
): void {
  res.cookie(bindingCookieName(input.state), input.binding, {
    httpOnly: true,
    sameSite: 'lax',
    secure: input.secure,
    path: cookiePath(input.provider),
    maxAge: input.maxAgeMs,
  });
}

export function clearBindingCookie(res: Response, provider: string, state: string | undefined): void {
  if (!state) return;
  res.clearCookie(bindingCookieName(state), { path: cookiePath(provider) });
}

/** The binding cookie the browser sent for `state`, read from the raw Cookie header (no cookie parser needed). */
export function readBindingCookie(req: Pick<Request, 'headers'>, state: string): string | undefined {
  const name = bindingCookieName(state);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
