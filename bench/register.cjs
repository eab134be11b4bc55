/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS preload script, loaded with `node -r` before TypeScript is available */
// Lets `node` run the benchmark's TypeScript and the project's sources without a build: transpiles .ts on require
// (no type check: `npm run typecheck` does that) and resolves the tsconfig path aliases (@pm/...). Transpiled output
// is cached on disk by path and modification time, so the memory cases' child processes start quickly.
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const root = path.resolve(__dirname, '..');
const cacheDir = path.join(os.tmpdir(), 'pm-crm-bench-ts-cache');
fs.mkdirSync(cacheDir, { recursive: true });
let ts;
const compilerOptions = () => ({
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
});

function cachedPath(filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}:${stat.mtimeMs}:${stat.size}`).digest('hex');
  return path.join(cacheDir, `${key}.js`);
}

function transpile(filename, cached) {
  ts ??= require('typescript');
  const source = fs.readFileSync(filename, 'utf8');
  const output = ts.transpileModule(source, {
    compilerOptions: compilerOptions(),
    fileName: filename,
  }).outputText;
  fs.writeFileSync(`${cached}.${process.pid}`, output);
  fs.renameSync(`${cached}.${process.pid}`, cached);
  return output;
}

Module._extensions['.ts'] = function compile(module, filename) {
  const cached = cachedPath(filename);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    output = transpile(filename, cached);
  }
  module._compile(output, filename);
};

const TEST_FILE = /\.(spec|medium-spec|e2e-spec)\.ts$|\.d\.ts$/;

/**
 * Fills the cache for every source file under `dirs` (tests left out), so a child process started afterwards loads
 * no TypeScript compiler: a memory case that transpiled its sources itself would count the compiler (about 90 MB of
 * RSS) as the service's. Cheap once warm (a stat per file).
 */
function precompile(dirs) {
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(full);
      } else if (entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name)) {
        const cached = cachedPath(full);
        if (!fs.existsSync(cached)) transpile(full, cached);
      }
    }
  };
  for (const dir of dirs) walk(path.resolve(root, dir));
}

module.exports = { precompile };

const aliases = [
  [/^@pm\/connectors\/([^/]+)(\/.*)?$/, (m) => path.join(root, 'libs/connectors', m[1], 'src', m[2] ?? '')],
  [/^@pm\/([^/]+)(\/.*)?$/, (m) => path.join(root, 'libs', m[1], 'src', m[2] ?? '')],
];
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  for (const [pattern, target] of aliases) {
    const match = pattern.exec(request);
    if (match) return resolveFilename.call(this, target(match), parent, ...rest);
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
