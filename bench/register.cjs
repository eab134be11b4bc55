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

Module._extensions['.ts'] = function compile(module, filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}:${stat.mtimeMs}:${stat.size}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    ts ??= require('typescript');
    const source = fs.readFileSync(filename, 'utf8');
    output = ts.transpileModule(source, {
      compilerOptions: compilerOptions(),
      fileName: filename,
    }).outputText;
    fs.writeFileSync(`${cached}.${process.pid}`, output);
    fs.renameSync(`${cached}.${process.pid}`, cached);
  }
  module._compile(output, filename);
};

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
