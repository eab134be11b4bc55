export { PipedriveConnector } from './connector';
export { PIPEDRIVE_INTEGRATION_PORT, PipedriveConnectorModule } from './connector.module';
export {
  DEFAULT_PIPEDRIVE_RATE_LIMITS,
  resolvePipedriveConfig,
  type PipedriveConnectorConfig,
} from './config';
export { PIPEDRIVE_HTTP_FACTS, PIPEDRIVE_PROVIDER } from './http-facts';
export { PIPEDRIVE_OBJECTS } from './objects';
export type { WebhookSubscription as PipedriveWebhookSubscription } from './parse-webhook';
