import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { answerClientErrorsAsProblems } from './client-error-problem';
import { ProblemDetailsFilter } from './problem-details.filter';

/**
 * HTTP pieces that need the app instance: the OpenAPI document at /api/docs (JSON at /api/docs-json) and
 * problem+json for errors raised outside the plugin's controllers.
 */
/**
 * The largest JSON body: an activity ingest of 1,000 events with reply snippets is a few megabytes, past the
 * body parser's 100 kB default.
 */
export const JSON_BODY_LIMIT = '5mb';

export function setupCrmHttp(
  app: INestApplication,
  options: { title?: string; problemJsonEverywhere?: boolean } = {},
): void {
  // Registered before Nest's own parser, which then leaves JSON alone (Express only; a host may set its own).
  const withParser = app as INestApplication & {
    useBodyParser?: (type: string, options: { limit: string }) => unknown;
  };
  withParser.useBodyParser?.('json', { limit: JSON_BODY_LIMIT });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title ?? 'PenguinMails CRM Integrations')
      .setDescription('Connect tenants to their CRM and keep contacts and e-mail activity in step.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A service token (pmcrm_…)' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  // Errors raised before any controller (a body the JSON parser rejects, an unknown route) also leave as
  // problem+json. A host that mounts the plugin beside its own routes may leave this off.
  if (options.problemJsonEverywhere !== false) {
    app.useGlobalFilters(new ProblemDetailsFilter());
    answerClientErrorsAsProblems(app.getHttpServer());
  }
}
