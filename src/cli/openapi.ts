import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createOfflineOpenApiDocument,
  OPENAPI_FILE,
  serializeOpenApiDocument,
} from '../crm-integrations/http/openapi';

/**
 * `npm run openapi`: writes the OpenAPI document generated from the controllers and DTOs (the one /api/docs-json
 * serves) to docs/openapi.json. Needs no database. A test fails while the committed file and the code differ.
 */
async function main(): Promise<void> {
  const target = join(process.cwd(), OPENAPI_FILE);
  const document = await createOfflineOpenApiDocument();
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, serializeOpenApiDocument(document));
  const operations = Object.values(document.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
  console.log(`Wrote ${OPENAPI_FILE}: ${Object.keys(document.paths).length} paths, ${operations} operations`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
