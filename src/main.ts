import 'reflect-metadata';
import { bootstrapStandalone } from './standalone/bootstrap';
import { ConfigError } from './standalone/config/env.schema';

bootstrapStandalone().catch((error: unknown) => {
  // A configuration problem is one line naming the variable; anything else gets its stack.
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
