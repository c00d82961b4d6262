/**
 * The module boundaries of docs/ARCHITECTURE.md, checked on every `npm test` (`npm run check:deps`).
 *
 * Layers (each may import only those to its left):
 *   shared ← fhir ← storage ← fhir-store ← modules ← demo ← http ← server ← cli ← main
 * with config.ts and version.ts (leaves) for http, cli, server and main; `pcn serve` (cli) starts
 * server.ts. Tests (*.test.ts, test/, web/e2e/) and bench/ may import any layer, but modules still
 * only through their entry.
 */
const TESTS = '(\\.test\\.ts$|^test/|^web/e2e/|^bench/)';
const LAYERS = {
  shared: '^src/shared/',
  fhir: '^src/fhir/',
  storage: '^src/storage/',
  fhirStore: '^src/fhir-store/',
  modules: '^src/modules/',
  demo: '^src/demo/',
  http: '^src/http/',
  cli: '^src/cli/',
  server: '^src/server\\.ts$',
  main: '^src/main\\.ts$',
  leaves: '^src/(config|version)\\.ts$',
};
const SRC_LAYERS = Object.values(LAYERS);

/** A layer's files (tests aside) may import only the layers listed. */
function layer(name, from, allowed) {
  return {
    name: `layer-${name}`,
    severity: 'error',
    comment: `${name} may import only: ${allowed.join(', ') || 'itself'} (docs/ARCHITECTURE.md, the dependency rule)`,
    from: { path: from, pathNot: TESTS },
    to: { path: SRC_LAYERS.filter((l) => l !== from && !allowed.some((a) => LAYERS[a] === l)) },
  };
}

module.exports = {
  forbidden: [
    layer('shared', LAYERS.shared, []),
    layer('fhir', LAYERS.fhir, ['shared']),
    layer('storage', LAYERS.storage, ['shared', 'fhir']),
    // The store sits below every module: the access decision and the audit reach it through the request context.
    layer('fhir-store', LAYERS.fhirStore, ['shared', 'fhir', 'storage']),
    layer('modules', LAYERS.modules, ['shared', 'fhir', 'storage', 'fhirStore']),
    layer('demo', LAYERS.demo, ['shared', 'fhir', 'storage', 'fhirStore', 'modules']),
    layer('http', LAYERS.http, ['shared', 'fhir', 'storage', 'fhirStore', 'modules', 'leaves']),
    layer('server', LAYERS.server, ['shared', 'fhir', 'storage', 'fhirStore', 'modules', 'demo', 'http', 'leaves']),
    layer('cli', LAYERS.cli, ['shared', 'fhir', 'storage', 'fhirStore', 'modules', 'demo', 'server', 'leaves']),
    layer('leaves', LAYERS.leaves, []),
    {
      name: 'demo-only-for-entry-points',
      severity: 'error',
      comment: 'Demo and synthetic data are not product code: only cli, server, tests and bench import src/demo.',
      from: { pathNot: [LAYERS.demo, LAYERS.cli, LAYERS.server, LAYERS.main, TESTS] },
      to: { path: LAYERS.demo },
    },
    {
      name: 'store-imports-no-module',
      severity: 'error',
      comment:
        'src/fhir-store imports no module, HTTP, CLI or demo code. Its tests may seed through the record module and the demo population.',
      from: { path: LAYERS.fhirStore, pathNot: TESTS },
      to: { path: '^src/(modules|http|cli|demo)/' },
    },
    {
      name: 'module-entry-from-outside',
      severity: 'error',
      comment: 'Outside a module, import only its index.ts (its public entry).',
      from: {
        pathNot: [
          LAYERS.modules,
          // The web app takes constants from a module's browser-safe types.ts (network's partner types,
          // population's model system), and the roles' titles from access's policy.ts (which imports only a
          // type): the entries would pull server code into the bundle. Types come through the entry.
          '^web/src/(api|format|roles)\\.ts$',
        ],
      },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'web-takes-only-types-ts',
      severity: 'error',
      comment: "The web app may bypass a module entry only for a module's browser-safe types.ts and access/policy.ts.",
      from: { path: '^web/src/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/[^/]+/index\\.ts$', '^src/modules/[^/]+/types\\.ts$', '^src/modules/access/policy\\.ts$'] },
    },
    {
      name: 'module-entry-from-other-modules',
      severity: 'error',
      comment: 'One module uses another only through its index.ts; a module (and its tests) may use its own files.',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'domain-without-frameworks',
      severity: 'error',
      comment: 'Domain code (shared, fhir, storage, fhir-store, modules, demo) never imports Fastify, commander or React.',
      from: { path: '^src/(shared|fhir|storage|fhir-store|modules|demo)/' },
      to: { path: 'node_modules/(fastify|fastify-[^/]+|@fastify/[^/]+|commander|react|react-dom)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles: a cycle ties files together so that neither can change alone. A cycle closed only by a ' +
        'type-only import (routes naming the app type they register on) loads fine and is not counted.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a moved file left an importer behind).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(web/dist|node_modules)/' },
    // Type-only imports count: a layer must not even name another's types in the wrong direction.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      // Type-only packages (@medplum/fhirtypes) have only a `types` entry.
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
  },
};
