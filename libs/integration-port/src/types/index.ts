/**
 * Types shared by every CRM connector and the sync engine. Object types and field names are data (strings), never
 * enums: custom objects and more CRMs arrive without touching these files.
 */
export * from './capabilities';
export * from './oauth';
export * from './records';
export * from './activities';
export * from './webhooks';
