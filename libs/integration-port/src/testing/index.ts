// Test support, imported as '@pm/integration-port/testing'. Never re-exported from the runtime barrel.
export * from './contract-fixture';
export * from './integration-port-contract';
export * from './in-memory-connector';
export * from './auto-mock';
export * from './crm-failure';
