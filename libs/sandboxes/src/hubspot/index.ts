// The HubSpot sandbox: createHubSpotSandbox() and what tests need around it. Names carry "HubSpot" so the
// package entry can re-export every CRM sandbox side by side.
export * from './hubspot-sandbox';
export type {
  HubSpotRecord,
  PropertyInput as HubSpotPropertyInput,
  RecordChange as HubSpotRecordChange,
  ChangeSource as HubSpotChangeSource,
} from './portal';
export type { HubSpotObjectType } from './object-types';
export { HUBSPOT_OBJECT_TYPES, OBJECT_TYPE_INFO as HUBSPOT_OBJECT_TYPE_INFO } from './object-types';
export type { PropertyDefinition as HubSpotPropertyDefinition } from './properties';
export type { BatchValidationMode as HubSpotBatchValidationMode } from './route-context';
export type { HubSpotErrorBody } from './errors';
export {
  hubSpotSignatureV3,
  verifyHubSpotSignatureV3,
  HUBSPOT_SIGNATURE_MAX_AGE_MS,
  type HubSpotWebhookEvent,
} from './webhooks';
