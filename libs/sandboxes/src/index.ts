// Public entry of @pm/sandboxes: the kit and every CRM sandbox factory. Tests, the benchmark and the demo import
// from here; the product itself never does (sandboxes are not a runtime dependency).
export * from './kit';
export * from './salesforce';
export * from './hubspot';
export * from './pipedrive';
