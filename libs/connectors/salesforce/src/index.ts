export { SalesforceConnector } from './connector';
export { SalesforceConnectorModule, SALESFORCE_INTEGRATION_PORT } from './connector.module';
export type { SalesforceConnectorConfig } from './config';
export {
  DEFAULT_API_VERSION as SALESFORCE_DEFAULT_API_VERSION,
  DEFAULT_LOGIN_URL as SALESFORCE_DEFAULT_LOGIN_URL,
} from './config';
export { SALESFORCE_SPREAD_BURST } from './capabilities';
export { SALESFORCE_HTTP_FACTS } from './http-facts';
export { SALESFORCE_OBJECTS } from './objects';
