// One Jest run, three tiers told apart by file name (as in Immich's server):
//   *.spec.ts         unit tests, no I/O, ports auto-mocked
//   *.medium-spec.ts  against a real PostgreSQL (TEST_DATABASE_URL, else an embedded server)
//   *.e2e-spec.ts     the whole app over HTTP, sandboxes, browser
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|medium-spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  moduleNameMapper: {
    // See test/support/esm-import.js: ESM-only packages (AdminJS) are imported through Jest's own loader.
    '^(\\.{1,2}/)+(src/)?common/esm-import$': '<rootDir>/test/support/esm-import.js',
    ...pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Records the secrets sandboxes hand out, for the secret scan at the end of the run (test/support/secret-scan.ts).
  setupFiles: ['<rootDir>/test/support/record-secrets.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/', '<rootDir>/tmp/'],
};
