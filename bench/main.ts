// `npm run bench -- [options]`: starts the CRM sandboxes, a PostgreSQL (DATABASE_URL's server, else an embedded
// one) and the service with its sync workers, runs the cases of issue 16, prints the tables and writes the JSON.
// A case that fails or times out becomes a row with its error; the command exits 0 unless --strict.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runBench } from './bench';
import { startDatabaseServer } from './database';
import { parseBenchArgs } from './options';
import { renderReport } from './report';

// This script runs under `node -r ./bench/register.cjs` (npm run bench); the same module instance answers here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { precompile } = require('./register.cjs') as { precompile(dirs: string[]): void };

async function main(): Promise<number> {
  let options;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `bench: size ${options.size}, N=${options.count}, runs ${options.runs}, CRMs ${options.crms.join(', ')}`,
  );
  // The child processes then load the cached JavaScript, not the TypeScript compiler (see register.cjs).
  precompile(['src', 'libs', 'bench']);
  const server = await startDatabaseServer();
  let results;
  try {
    results = await runBench(options, server.url, log);
  } finally {
    await server.stop();
  }
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...results, ...keptBefore(out) }, null, 2)}\n`);
  process.stdout.write(`${renderReport(results)}\n\nResults written to ${options.out}\n`);
  const failed = results.rows.filter((row) => row.errors.length > 0);
  if (failed.length && options.strict) {
    process.stderr.write(`bench: ${failed.length} case(s) failed (--strict)\n`);
    return 1;
  }
  return 0;
}

/**
 * The figures the file kept as `before` (issue 16's starting point), so a new run replaces only the current ones and
 * the file holds both.
 */
function keptBefore(out: string): { before?: unknown } {
  if (!existsSync(out)) return {};
  try {
    const previous = JSON.parse(readFileSync(out, 'utf8')) as { before?: unknown };
    return previous.before === undefined ? {} : { before: previous.before };
  } catch {
    return {};
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
