/**
 * The layer rules of the monolith (README "Architecture"). `npm run lint:layers` and the architecture test check
 * them. Imports run one way: app → libraries; connectors → port + connector-kit; engine → port (+ domain,
 * connector-kit); sandboxes → nothing of the product.
 */
// Test code: spec files, helpers under a library's own test/ folder, and a library's testing entry point
// (`@pm/<lib>/testing`: never imported by runtime code, see runtime-code-never-imports-tests).
const notTests = '(\\.(spec|medium-spec|e2e-spec)\\.ts$|^libs/.+/test/|^libs/.+/src/testing/)';

module.exports = {
  forbidden: [
    {
      name: 'libs-never-import-the-app',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^src/' },
    },
    {
      name: 'plugin-never-imports-the-standalone-bootstrap',
      comment:
        'src/crm-integrations is what a host mounts; main.ts, the embedded database and CLIs are the host side.',
      severity: 'error',
      from: { path: '^src/crm-integrations/' },
      to: { path: '^src/(standalone|cli|main\\.ts|worker\\.ts)' },
    },
    {
      name: 'sandboxes-are-never-a-runtime-dependency',
      comment:
        'Only the standalone demo mode (and tests) may start a sandbox; the plugin and libraries never load one.',
      severity: 'error',
      from: { path: '^(src/crm-integrations|libs/(?!sandboxes/))', pathNot: notTests },
      to: { path: '^libs/sandboxes/' },
    },
    {
      name: 'port-imports-nothing-of-the-product',
      severity: 'error',
      from: { path: '^libs/integration-port/' },
      to: { path: '^(src|libs/(?!integration-port/))' },
    },
    {
      name: 'connector-kit-imports-only-the-port',
      severity: 'error',
      from: { path: '^libs/connector-kit/' },
      to: { path: '^(src|libs/(?!connector-kit/|integration-port/))' },
    },
    {
      name: 'connectors-import-only-port-and-kit',
      comment:
        'A connector never imports the engine, the domain (credentials), another connector or a sandbox.',
      severity: 'error',
      from: { path: '^libs/connectors/([^/]+)/', pathNot: notTests },
      to: { path: '^(src|libs/(?!integration-port/|connector-kit/|connectors/$1/))' },
    },
    {
      name: 'engine-never-imports-a-connector',
      severity: 'error',
      from: { path: '^libs/sync-engine/' },
      to: { path: '^(src|libs/(connectors|sandboxes)/)' },
    },
    {
      name: 'engine-imports-no-entity',
      comment:
        "The engine takes the domain's plain types from libs/domain/src/model; an entity would load MikroORM.",
      severity: 'error',
      from: { path: '^libs/sync-engine/' },
      to: { path: '^libs/domain/src/(?!model/)' },
    },
    {
      name: 'domain-model-is-orm-free',
      comment: 'The plain types the engine and the port side share: no ORM, no entity.',
      severity: 'error',
      from: { path: '^libs/domain/src/model/' },
      to: { path: '(^libs/domain/src/(?!model/)|@mikro-orm)' },
    },
    {
      name: 'engine-loads-no-orm',
      severity: 'error',
      from: { path: '^libs/sync-engine/' },
      to: { path: '@mikro-orm' },
    },
    {
      name: 'sandboxes-import-nothing-of-the-product',
      severity: 'error',
      from: { path: '^libs/sandboxes/' },
      to: { path: '^(src|libs/(?!sandboxes/))' },
    },
    {
      name: 'domain-imports-no-other-layer',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: '^(src|libs/(?!domain/|integration-port/))' },
    },
    {
      name: 'runtime-code-never-imports-tests',
      severity: 'error',
      from: { path: '^(src|libs)/', pathNot: `${notTests}|/testing/` },
      to: { path: `(^test/|${notTests}|/testing/)` },
    },
    {
      name: 'no-circular',
      comment: 'ORM entities refer to each other both ways by design (relations); nothing else may.',
      severity: 'error',
      from: { pathNot: '^libs/domain/src/entities/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|^node_modules/|\\.adminjs/)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
