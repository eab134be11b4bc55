export * from './types';
export * from './errors';
export * from './integration-port';
export * from './integration-port.registry';
