import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { createOrmConfig } from '@pm/domain';
import { ConfigError } from '../standalone/config/env.schema';
import { prepareRuntime, type StandaloneRuntime } from '../standalone/runtime';

/** Parses `--name value` pairs; a flag without a value is `true`. */
export function parseArgs(argv: string[]): Record<string, string | true> {
  const args: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ConfigError(`Unexpected argument "${arg}"`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[arg.slice(2)] = true;
    else {
      args[arg.slice(2)] = next;
      i++;
    }
  }
  return args;
}

/**
 * Runs a CLI command against the same database `npm start` uses (embedded under DATA_DIR unless DATABASE_URL is
 * set), with migrations applied, inside an ORM request context. Errors end the process with one line.
 */
export async function runCli(
  command: (context: {
    orm: MikroORM;
    runtime: StandaloneRuntime;
    args: Record<string, string | true>;
  }) => Promise<void>,
): Promise<void> {
  let runtime: StandaloneRuntime | undefined;
  let orm: MikroORM | undefined;
  try {
    const args = parseArgs(process.argv.slice(2));
    runtime = await prepareRuntime(process.env, { crms: false });
    orm = await MikroORM.init(
      createOrmConfig({ clientUrl: runtime.databaseUrl, schema: runtime.env.DATABASE_SCHEMA }),
    );
    await orm.getMigrator().up();
    const ready = orm;
    const context = { orm: ready, runtime, args };
    await RequestContext.create(ready.em, () => command(context));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  } finally {
    await orm?.close(true);
    await runtime?.stop();
  }
}
