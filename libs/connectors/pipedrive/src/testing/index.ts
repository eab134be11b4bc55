// Test support, imported as '@pm/connectors/pipedrive/testing' (the connector's specs and the app's sandbox tests).
export * from './pipedrive-staging';
export * from './pipedrive-test-bed';
