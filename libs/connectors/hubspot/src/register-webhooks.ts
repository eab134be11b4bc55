import type { RegisteredWebhooks } from '@pm/integration-port';

/**
 * HubSpot's webhook subscriptions belong to the app, not to an account: they are set once in the app's settings
 * (capabilities list them as `webhooks.subscriptions`) and every installed portal's events arrive at the one URL,
 * told apart by `portalId`. So a connection registers nothing and removes nothing.
 */
export const HUBSPOT_WEBHOOK_SUBSCRIPTIONS = [
  'contact.creation',
  'contact.propertyChange',
  'contact.deletion',
  'contact.merge',
  'company.creation',
  'company.propertyChange',
  'company.deletion',
  'company.merge',
] as const;

export function registerHubSpotWebhooks(): Promise<RegisteredWebhooks> {
  return Promise.resolve({ ids: [] });
}

export function removeHubSpotWebhooks(): Promise<void> {
  return Promise.resolve();
}
