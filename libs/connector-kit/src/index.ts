export * from './clock';
export * from './cursor';
export * from './paginate';
export * from './retry';
export * from './rate-budget';
export * from './http-facts';
export * from './http-status';
export * from './api-hosts';
