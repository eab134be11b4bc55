import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TokenVault } from '../crm-integrations/vault/token-vault';
import { ConfigError } from '../standalone/config/env.schema';
import { prepareRuntime } from '../standalone/runtime';
import { StandaloneModule } from '../standalone/standalone.module';

/**
 * `npm run keys:rotate`: re-seals every stored OAuth token with the current TOKEN_ENCRYPTION_KEY. Rotate by setting
 * the new key (and its TOKEN_ENCRYPTION_KEY_ID) with the old one in TOKEN_ENCRYPTION_PREVIOUS_KEYS, run this, then
 * drop the old key.
 */
async function main(): Promise<void> {
  const runtime = await prepareRuntime(process.env, { crms: false });
  const app = await NestFactory.createApplicationContext(StandaloneModule.forRoot(runtime), {
    logger: ['error'],
  });
  try {
    const count = await app.get(TokenVault).rotateAll();
    console.log(`Re-sealed ${count} credential(s) with key "${runtime.encryption.current.id}".`);
  } finally {
    await app.close();
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
  process.exit(1);
});
