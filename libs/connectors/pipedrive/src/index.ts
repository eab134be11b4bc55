export { PipedriveConnector } from './pipedrive-connector';
export { PIPEDRIVE_INTEGRATION_PORT, PipedriveConnectorModule } from './pipedrive-connector.module';
export {
  DEFAULT_PIPEDRIVE_RATE_LIMITS,
  resolvePipedriveConfig,
  type PipedriveConnectorConfig,
} from './pipedrive-config';
export { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './pipedrive-http-facts';
export { PIPEDRIVE_OBJECTS } from './pipedrive-objects';
export type { WebhookSubscription as PipedriveWebhookSubscription } from './pipedrive-webhooks';
