/**
 * Plays the user's part of the OAuth consent dance over real HTTP, for tests: fetches the sandbox's authorize
 * page, reads the consent form from the HTML, submits Allow (or Deny) and returns the redirect it answers with,
 * from which the test takes `code` and `state` to exchange with the official SDK.
 */
export interface ApproveAuthorizationOptions {
  decision?: 'allow' | 'deny';
  /** Picks the account on the page when the sandbox has several. */
  accountId?: string;
}

export interface AuthorizationRedirect {
  /** The full redirect target (the app's redirect_uri with code/state or error). */
  url: URL;
  code?: string;
  state?: string;
  error?: string;
  /** The consent page HTML, for assertions on what the user saw. */
  pageHtml: string;
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return match ? unescapeHtml(match[1]) : undefined;
}

export async function approveAuthorization(
  authorizeUrl: string,
  options: ApproveAuthorizationOptions = {},
): Promise<AuthorizationRedirect> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  const pageHtml = await page.text();
  if (page.status !== 200)
    throw new Error(`authorize page answered ${page.status}: ${pageHtml.slice(0, 300)}`);
  const formTag = /<form\b[^>]*>/i.exec(pageHtml)?.[0];
  if (!formTag) throw new Error('authorize page has no form');
  const action = new URL(attribute(formTag, 'action') ?? '', authorizeUrl);
  const form = new URLSearchParams();
  for (const input of pageHtml.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name');
    if (name && attribute(input, 'type') === 'hidden') form.set(name, attribute(input, 'value') ?? '');
  }
  if (options.accountId !== undefined) form.set('account_id', options.accountId);
  form.set('decision', options.decision ?? 'allow');
  const answer = await fetch(action, {
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location)
    throw new Error(
      `authorize form answered ${answer.status} without a redirect: ${(await answer.text()).slice(0, 300)}`,
    );
  const url = new URL(location, action);
  return {
    url,
    code: url.searchParams.get('code') ?? undefined,
    state: url.searchParams.get('state') ?? undefined,
    error: url.searchParams.get('error') ?? undefined,
    pageHtml,
  };
}
