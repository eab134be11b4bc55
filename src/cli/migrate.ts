import 'reflect-metadata';
import { runCli } from './cli-context';

// `npm run migrate`: applies committed migrations (runCli does it) and says what is applied.
void runCli(async ({ orm }) => {
  const executed = await orm.getMigrator().getExecutedMigrations();
  console.log(
    `Database is up to date: ${executed.length} migration(s) applied (latest: ${executed.at(-1)?.name ?? 'none'}).`,
  );
});
