// Test support, imported as '@pm/connectors/hubspot/testing' (the connector's specs and the app's sandbox tests).
export * from './hubspot-test-bed';
