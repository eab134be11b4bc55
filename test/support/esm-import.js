// Jest stand-in for src/common/esm-import.ts. Code made with `new Function` inside Jest's VM keeps the dynamic-import
// hook of the first test file that ran in the worker, so a later file's import() fails as "torn down". A plain
// import() in a CommonJS file Jest compiles itself is routed through the current file's runtime.
module.exports.esmImport = (specifier) => import(specifier);
