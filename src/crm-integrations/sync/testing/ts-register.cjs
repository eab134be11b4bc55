/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS preload script, loaded with `node -r` before TypeScript is available */
// Lets a plain `node` child process of a test load the project's TypeScript: transpiles .ts on require (no type
// check) and resolves the tsconfig path aliases (@pm/...). Test support only; the build never includes it.
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '../../../..');
const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
};

Module._extensions['.ts'] = function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
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
