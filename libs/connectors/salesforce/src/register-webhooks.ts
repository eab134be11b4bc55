import type { RegisteredWebhooks } from '@pm/integration-port';

/**
 * Salesforce has no webhooks to register per connection: its change events come over the Streaming API (Change
 * Data Capture), subscribed by the streaming client, not through the port. So nothing is created or removed here.
 */
export function registerSalesforceWebhooks(): Promise<RegisteredWebhooks> {
  return Promise.resolve({ ids: [] });
}

export function removeSalesforceWebhooks(): Promise<void> {
  return Promise.resolve();
}
