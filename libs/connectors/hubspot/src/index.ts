export { HubSpotConnector } from './connector';
export {
  HubSpotConnectorModule,
  HUBSPOT_INTEGRATION_PORT,
  HUBSPOT_CONNECTOR_CONFIG,
} from './connector.module';
export {
  HUBSPOT_PROVIDER,
  HUBSPOT_API_BASE_URL,
  HUBSPOT_AUTHORIZE_URL,
  HUBSPOT_DEFAULT_SCOPES,
  HUBSPOT_DEFAULT_READ_OVERLAP_MS,
  HUBSPOT_OBJECTS,
  type HubSpotConnectorConfig,
} from './config';
export { hubSpotCapabilities } from './capabilities';
export { hubSpotHttpFacts } from './http-facts';
export { hubSpotWebhookSignatureV3, HUBSPOT_WEBHOOK_MAX_AGE_MS } from './parse-webhook';
