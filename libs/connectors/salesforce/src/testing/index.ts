// Test support, imported as '@pm/connectors/salesforce/testing' (the connector's specs and the app's sandbox tests).
export * from './salesforce-fixture';
