import 'reflect-metadata';
import { bootstrapStandalone } from './standalone/bootstrap';
import { ConfigError } from './standalone/config/env.schema';

bootstrapStandalone().catch((error: unknown) => {
  // A configuration problem (a variable, a wrong encryption key) is one line saying what to set; anything else
  // gets its stack.
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'EncryptionKeyError'))
    console.error(error.message);
  else console.error(error);
  process.exit(1);
});
