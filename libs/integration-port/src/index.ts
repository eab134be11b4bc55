export * from './types';
export * from './field-mapping';
export * from './company-mapping';
export * from './errors';
export * from './integration-port';
export * from './integration-port.registry';
