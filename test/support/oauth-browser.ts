import type request from 'supertest';

/**
 * The user's browser in the connect flow: opens our start link (which binds the OAuth state to this browser with a
 * cookie and redirects to the CRM) and later brings the CRM's redirect back to our callback with that cookie. A
 * cookie jar of one binding cookie per state.
 */
export class OAuthBrowser {
  private readonly jar = new Map<string, string>();

  constructor(private readonly http: ReturnType<typeof request>) {}

  /** Follows a start link; returns the CRM's authorize URL it redirected to. */
  async open(startUrl: string): Promise<string> {
    const url = new URL(startUrl);
    const response = await this.http.get(`${url.pathname}${url.search}`).redirects(0);
    if (response.status !== 302) {
      throw new Error(`The start link answered ${response.status}: ${response.text}`);
    }
    const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    const binding = cookies.find((cookie) => cookie.startsWith('pm_crm_oauth_'));
    if (binding) this.jar.set(url.searchParams.get('state') ?? '', binding.split(';')[0]);
    return response.headers.location as string;
  }

  /** A GET of our callback with the query the CRM sends, carrying this browser's cookie for the state. */
  callback(path: string, query: Record<string, string | null | undefined>): request.Test {
    const test = this.http.get(path).query(query as Record<string, string>);
    const cookie = this.jar.get(query.state ?? '');
    return cookie ? test.set('Cookie', cookie) : test;
  }
}
