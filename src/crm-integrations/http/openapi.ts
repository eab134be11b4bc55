import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { createOrmConfig } from '@pm/domain';
import { CrmIntegrationsModule } from '../crm-integrations.module';
import { CRM_ORM } from '../database/crm-database';
import { API_LIMITS } from './limits';

/** Where `npm run openapi` writes the document, relative to the checkout. */
export const OPENAPI_FILE = 'docs/openapi.json';

const DESCRIPTION = [
  'Connect tenants to their CRM and keep contacts and e-mail activity in step.',
  '',
  'Every error is `application/problem+json` (RFC 9457); `invalidParams` names each bad field or limit.',
  '',
  '**Limits.** ' +
    `JSON bodies up to ${API_LIMITS.bodyBytes} (the activity ingest: ${API_LIMITS.activityBodyBytes}); a larger ` +
    'body is a 413 naming the limit. At most 1,000 events per activity ingest (more: 413). Pages of at most ' +
    `${API_LIMITS.pageSize} items (\`limit\` above it: 422, \`urn:problem:limit-exceeded\`). Request headers up ` +
    'to 16 kB (431).',
].join('\n');

/** The OpenAPI document of the app's controllers and DTOs: what /api/docs serves and `npm run openapi` writes. */
export function buildOpenApiDocument(
  app: INestApplication,
  title = 'PenguinMails CRM Integrations',
): OpenAPIObject {
  return describeEveryResponse(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(title)
        .setDescription(DESCRIPTION)
        .setVersion('1')
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A service token (pmcrm_…)' })
        .build(),
    ),
  );
}

/**
 * OpenAPI 3 requires a description on every response; @nestjs/swagger leaves it empty for `@ApiOkResponse({ type })`.
 * Such a response is described by its status's reason phrase ("OK", "Created").
 */
function describeEveryResponse(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as {
      responses?: Record<string, { description?: string }>;
    }[]) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (response && !response.description)
          response.description = STATUS_CODES[Number(status)] ?? 'Response';
      }
    }
  }
  return document;
}

/**
 * The document without a database: the plugin's module built with an ORM that never connects and never
 * initialised (no migrations, workers or OAuth strategies start), which is all the document needs.
 */
export async function createOfflineOpenApiDocument(): Promise<OpenAPIObject> {
  const module = CrmIntegrationsModule.forRoot({
    database: { clientUrl: 'postgresql://offline.invalid/openapi', migrateOnStart: false },
    encryption: { current: { id: 'openapi', key: randomBytes(32) } },
    publicUrl: 'http://localhost:3000',
  });
  module.providers = (module.providers ?? []).map((provider) =>
    typeof provider === 'object' && 'provide' in provider && provider.provide === CRM_ORM
      ? {
          provide: CRM_ORM,
          useFactory: () =>
            MikroORM.init({
              ...createOrmConfig({ clientUrl: 'postgresql://offline.invalid/openapi' }),
              connect: false,
            }),
        }
      : provider,
  );
  const app = await NestFactory.create(module, { logger: false, abortOnError: false });
  try {
    return buildOpenApiDocument(app);
  } finally {
    const orm = app.get<MikroORM>(CRM_ORM);
    await orm.close(true).catch(() => undefined);
  }
}

/** The document as the committed file holds it: two-space JSON with a final newline. */
export function serializeOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
