// The Salesforce sandbox: a local Salesforce (OAuth web server flow + REST API subset) that jsforce talks to.
// Names are Salesforce-prefixed where they could clash with other sandboxes in `@pm/sandboxes`.
export { createSalesforceSandbox, SalesforceSandbox } from './salesforce-sandbox';
export type { SalesforceSandboxOptions, SeedOptions as SalesforceSeedOptions } from './salesforce-sandbox';
export { SalesforceOrg, SalesforceApiError } from './org';
export type {
  DmlError as SalesforceDmlError,
  SaveResult as SalesforceSaveResult,
  SalesforceRecord,
  QueryPage as SalesforceQueryPage,
} from './org';
export { SalesforceSchema, DEFAULT_CUSTOM_FIELDS as SALESFORCE_DEFAULT_CUSTOM_FIELDS } from './schema';
export type {
  CustomFieldSpec as SalesforceCustomFieldSpec,
  FieldDefinition as SalesforceFieldDefinition,
  ObjectDefinition as SalesforceObjectDefinition,
  SalesforceObjectName,
} from './schema';
export {
  parseSoql,
  prepareSoql,
  SoqlError,
  formatDateTime as formatSalesforceDateTime,
  parseDateTime as parseSalesforceDateTime,
} from './soql';
export {
  SalesforceIdGenerator,
  checksumSuffix as salesforceIdChecksum,
  to18 as toSalesforceId18,
} from './ids';
