// Moved to the port's testing entry point, shared with the app's service tests; kept here for the engine's imports.
export { autoMock } from '@pm/integration-port/testing';
