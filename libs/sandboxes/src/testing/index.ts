// Test support, imported as '@pm/sandboxes/testing': booting a sandbox and signing in to it, once for every test.
export * from './sandbox-test-bed';
