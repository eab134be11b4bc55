import { join, resolve } from 'node:path';
import { ConfigError, parseEnv } from '../standalone/config/env.schema';
import { clusterState } from '../standalone/database/cluster-state';
import { demoStateDir, removeDemoState } from './demo-state';

/**
 * `npm run demo:reset`: forgets what the demo sandboxes kept in DATA_DIR/demo (records changed, OAuth grants,
 * ports), so the next `npm start` begins with fresh demo data. Refuses while a service of this DATA_DIR runs:
 * its sandboxes would write their state straight back.
 */
function main(): number {
  const dataDir = resolve(parseEnv(process.env).DATA_DIR);
  if (clusterState(join(dataDir, 'postgres', 'pg')).kind === 'running') {
    console.error(
      `demo:reset: a service is running on ${dataDir}; stop it first (Ctrl-C), then run this again.`,
    );
    return 1;
  }
  const removed = removeDemoState(dataDir);
  if (removed.length === 0) {
    console.log(`demo:reset: nothing to remove, no saved demo state in ${demoStateDir(dataDir)}.`);
    return 0;
  }
  console.log(`demo:reset: removed ${demoStateDir(dataDir)} (${removed.join('; ')}).`);
  console.log(
    'The next start begins with fresh demo data; connections to a demo CRM must be connected again (their grants are gone).',
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
