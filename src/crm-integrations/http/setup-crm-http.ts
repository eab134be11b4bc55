import type { INestApplication } from '@nestjs/common';
import { json, raw, type RequestHandler } from 'express';
import { SwaggerModule } from '@nestjs/swagger';
import { answerClientErrorsAsProblems } from './client-error-problem';
import { buildOpenApiDocument } from './openapi';
import { ProblemDetailsFilter } from './problem-details.filter';

/**
 * HTTP pieces that need the app instance: the OpenAPI document at /api/docs (JSON at /api/docs-json) and
 * problem+json for errors raised outside the plugin's controllers.
 */
/**
 * Bodies are JSON of at most 100 kB (the body parser's default), except the activity ingest: a batch of 1,000 events
 * with reply snippets is a few megabytes.
 */
export const ACTIVITY_BODY_LIMIT = '5mb';
const ACTIVITY_INGEST_PATH = /^\/api\/v1\/tenants\/[^/]+\/activities\/?$/;
/** Contact batches of 1,000 with custom fields need the same room. */
const CONTACT_BATCH_PATH = /^\/api\/v1\/tenants\/[^/]+\/contacts\/batch(-delete)?\/?$/;

/** CRM change webhooks: their signatures cover the body's bytes, so the body is kept raw (HubSpot's 100 events fit). */
const CHANGE_WEBHOOK_PATH = /^\/webhooks\/(hubspot|pipedrive\/[^/]+)\/?$/;
export const CHANGE_WEBHOOK_BODY_LIMIT = '1mb';

/**
 * CRM change webhooks reach their receiver with the body as sent (a Buffer), before Nest's JSON parser: HubSpot's
 * signature covers the exact bytes. Call before `app.init()` (setupCrmHttp does).
 */
export function keepChangeWebhookBodiesRaw(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance() as { use?: (handler: RequestHandler) => unknown };
  const webhookParser = raw({ type: () => true, limit: CHANGE_WEBHOOK_BODY_LIMIT });
  express.use?.((req, res, next) =>
    req.method === 'POST' && CHANGE_WEBHOOK_PATH.test(req.path) ? webhookParser(req, res, next) : next(),
  );
}

export function setupCrmHttp(
  app: INestApplication,
  options: { title?: string; problemJsonEverywhere?: boolean } = {},
): void {
  // Parsed here before Nest's own JSON parser runs, which then leaves the body alone (Express only; a host may
  // set its own).
  const activityParser = json({ limit: ACTIVITY_BODY_LIMIT });
  const express = app.getHttpAdapter().getInstance() as { use?: (handler: RequestHandler) => unknown };
  express.use?.((req, res, next) =>
    req.method === 'POST' && (ACTIVITY_INGEST_PATH.test(req.path) || CONTACT_BATCH_PATH.test(req.path))
      ? activityParser(req, res, next)
      : next(),
  );
  keepChangeWebhookBodiesRaw(app);
  const document = buildOpenApiDocument(app, options.title);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  // Errors raised before any controller (a body the JSON parser rejects, an unknown route) also leave as
  // problem+json. A host that mounts the plugin beside its own routes may leave this off.
  if (options.problemJsonEverywhere !== false) {
    app.useGlobalFilters(new ProblemDetailsFilter());
    answerClientErrorsAsProblems(app.getHttpServer());
  }
}
