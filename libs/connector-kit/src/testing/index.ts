// Test support, imported as '@pm/connector-kit/testing'. Never re-exported from the runtime barrel.
export * from './in-memory-rate-budget';
export * from './manual-clock';
export * from './change-pages';
