// Test support for the engine and its store implementations. Never imported by runtime code.
export * from './auto-mock';
export * from './builders';
export * from './counting-port';
export * from './in-memory-stores';
export * from './in-memory-companies';
export * from './associating-port';
export * from './runner-harness';
