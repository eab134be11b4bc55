// The sandbox kit: shared parts every CRM sandbox is built from. See libs/sandboxes/README.md.
export * from './clock';
export * from './record-store';
export * from './random';
export * from './fake-people';
export * from './rate-limiter';
export * from './request-counter';
export * from './fault-injector';
export * from './oauth-server';
export * from './oauth-browser';
export * from './webhook-dispatcher';
export * from './sandbox-server';
export * from './control-client';
