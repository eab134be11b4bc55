import { CrmError, CrmErrorCode, type ProviderId } from '@pm/integration-port';

/**
 * Where a CRM's token may be sent. A token response names the account's API base (Salesforce `instance_url`,
 * Pipedrive `api_domain`), and every later call carries the access token there, so a forged or tampered answer
 * would hand the token to any host. Each connector declares its CRM's real API hosts as data (`allowedApiHosts` in
 * its HTTP facts); the hosts it was configured with (a local sandbox's base in demo mode and tests) are allowed
 * besides, and nothing else.
 *
 * An entry is either a host pattern — `api.pipedrive.com`, `*.my.salesforce.com` (any subdomain) — which allows
 * that host over https on the default port only, or a full origin — `http://127.0.0.1:4101` — which allows exactly
 * that scheme, host and port.
 */
export function isAllowedApiHost(url: string, allowed: readonly string[]): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  if (target.username !== '' || target.password !== '') return false;
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  const host = target.hostname.toLowerCase();
  return allowed.some((entry) => {
    if (entry.includes('://')) {
      try {
        return new URL(entry).origin === target.origin;
      } catch {
        return false;
      }
    }
    if (target.protocol !== 'https:' || target.port !== '') return false;
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

/**
 * The API hosts a connector allows: the configured list (else its CRM's defaults) plus the origins of the bases it
 * was configured with (login, OAuth and API URLs), which an operator chose.
 */
export function resolveAllowedApiHosts(
  defaults: readonly string[],
  configured: readonly string[] | undefined,
  configuredBases: readonly (string | undefined)[],
): string[] {
  const origins = configuredBases.flatMap((base) => {
    if (!base) return [];
    try {
      return [new URL(base).origin];
    } catch {
      return [];
    }
  });
  return [...new Set([...(configured ?? defaults), ...origins])];
}

/**
 * Refuses an API base outside the allowed hosts, before any token is sent there. AUTH_REVOKED: the tokens are not
 * used, and a connection that was refreshed into another host needs the user to reconnect.
 */
export function checkApiHost(provider: ProviderId, url: string, allowed: readonly string[]): string {
  if (!isAllowedApiHost(url, allowed)) {
    let host = url;
    try {
      host = new URL(url).host;
    } catch {
      // an unparsable URL is named as given
    }
    throw new CrmError(
      CrmErrorCode.AUTH_REVOKED,
      `The ${provider} token response named an API host that is not allowed for ${provider} (${host}); ` +
        'no token was sent there',
      { provider },
    );
  }
  return url.replace(/\/+$/, '');
}
