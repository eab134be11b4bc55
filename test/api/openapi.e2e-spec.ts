import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { OpenAPIObject } from '@nestjs/swagger';
import {
  createOfflineOpenApiDocument,
  OPENAPI_FILE,
  serializeOpenApiDocument,
} from '../../src/crm-integrations/http/openapi';
import { startTestApp, type TestApp } from '../support/test-app';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const DRIFT = `${OPENAPI_FILE} differs from the controllers and DTOs: run \`npm run openapi\` and commit the file`;

type Operation = {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
  security?: unknown[];
};

function operations(document: OpenAPIObject): { path: string; method: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => method in item).map((method) => ({
      path,
      method,
      operation: (item as Record<string, Operation>)[method],
    })),
  );
}

/** Every `$ref` in the document, with where it was found. */
function refs(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => refs(item, `${at}/${index}`));
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [{ ref: child, at }] : refs(child, `${at}/${key}`),
  );
}

/**
 * The OpenAPI 3 rules this document must keep (no validator package is installed; these are the structural rules
 * of the specification that a mistake here could break), returned as readable faults.
 */
function structuralFaults(document: OpenAPIObject): string[] {
  const faults: string[] = [];
  if (!/^3\.(0|1)\.\d+$/.test(document.openapi))
    faults.push(`openapi: "${document.openapi}" is not 3.0.x/3.1.x`);
  if (!document.info?.title || !document.info?.version) faults.push('info: needs title and version');
  const operationIds = new Set<string>();
  for (const { path, method, operation } of operations(document)) {
    const where = `${method.toUpperCase()} ${path}`;
    if (!path.startsWith('/')) faults.push(`${path}: a path must start with /`);
    if (!operation.operationId) faults.push(`${where}: no operationId`);
    else if (operationIds.has(operation.operationId)) faults.push(`${where}: duplicate operationId`);
    else operationIds.add(operation.operationId);
    const responses = Object.entries(operation.responses ?? {});
    if (responses.length === 0) faults.push(`${where}: no responses`);
    if (!responses.some(([status]) => /^[23]\d\d$/.test(status)))
      faults.push(`${where}: no success response`);
    for (const [status, response] of responses) {
      if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) faults.push(`${where}: bad status "${status}"`);
      if (!response.description) faults.push(`${where} ${status}: a response needs a description`);
      if (/^[45]/.test(status)) {
        const types = Object.keys(response.content ?? {});
        if (!types.includes('application/problem+json') && !types.includes('text/html')) {
          faults.push(`${where} ${status}: errors are documented as application/problem+json`);
        }
      }
    }
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
    for (const name of templated) {
      const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === name);
      if (!parameter) faults.push(`${where}: path parameter "${name}" is not declared`);
      else if (parameter.required !== true)
        faults.push(`${where}: path parameter "${name}" must be required`);
    }
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === 'path' && !templated.includes(parameter.name)) {
        faults.push(`${where}: path parameter "${parameter.name}" is not in the path`);
      }
    }
    if (path.startsWith('/api/v1/')) {
      for (const status of ['401', '403']) {
        if (!operation.responses?.[status]) faults.push(`${where}: ${status} is not documented`);
      }
      if (operation.requestBody && !operation.responses?.['413']) {
        faults.push(`${where}: takes a body but its size limit (413) is not documented`);
      }
      if (!operation.security?.length) faults.push(`${where}: needs the bearer security requirement`);
    }
  }
  const schemas = document.components?.schemas ?? {};
  for (const { ref, at } of refs(document)) {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    if (!match || !(match[1] in schemas)) faults.push(`${at}: $ref ${ref} does not resolve`);
  }
  return faults;
}

/** Routes the Express router holds, as `METHOD /openapi/{style}` (Swagger UI's own routes left out). */
function routerRoutes(testApp: TestApp): string[] {
  const express = testApp.app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  return (
    express.router.stack
      .flatMap((layer) =>
        layer.route
          ? Object.keys(layer.route.methods)
              .filter((method) => method !== '_all')
              .map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`)
          : [],
      )
      // Express's catch-all (the not-found handler) and Swagger UI's own routes are not API routes; Nest also
      // registers each route with a trailing slash.
      .filter((route) => !/ \/api\/docs|\{\*/.test(route))
      .map((route) => (route.endsWith('/') && !route.endsWith(' /') ? route.slice(0, -1) : route))
  );
}

describe('The OpenAPI document', () => {
  let testApp: TestApp;
  let committed: string;

  beforeAll(async () => {
    committed = readFileSync(join(__dirname, '..', '..', OPENAPI_FILE), 'utf8');
    testApp = await startTestApp();
  });

  afterAll(() => testApp.close());

  it(`is committed as generated: ${OPENAPI_FILE} matches the code`, async () => {
    const generated = serializeOpenApiDocument(await createOfflineOpenApiDocument());
    if (generated !== committed) throw new Error(DRIFT);
  });

  it('is what the running service serves at /api/docs-json', async () => {
    const served = await request(testApp.app.getHttpServer()).get('/api/docs-json').expect(200);
    if (serializeOpenApiDocument(served.body) !== committed) throw new Error(DRIFT);
  });

  it('keeps the OpenAPI 3 structural rules, with problem+json errors and documented limits', () => {
    expect(structuralFaults(JSON.parse(committed))).toEqual([]);
  });

  it('finds the faults it looks for (the checks can fail)', () => {
    const broken = JSON.parse(committed) as OpenAPIObject;
    const get = broken.paths['/api/v1/tenants/{tenantId}'].get as Operation;
    delete get.responses!['401'];
    get.responses!['404'].content = { 'application/json': {} };
    (broken.paths['/api/v1/tenants/{tenantId}/sync-log'].get as Operation).parameters = [];
    (broken.paths['/health'].get as Operation).responses = {};
    broken.components!.schemas = {};
    const faults = structuralFaults(broken);
    expect(faults).toEqual(
      expect.arrayContaining([
        'GET /api/v1/tenants/{tenantId}: 401 is not documented',
        'GET /api/v1/tenants/{tenantId} 404: errors are documented as application/problem+json',
        'GET /api/v1/tenants/{tenantId}/sync-log: path parameter "tenantId" is not declared',
        'GET /health: no responses',
        expect.stringMatching(/\$ref #\/components\/schemas\/\w+ does not resolve/),
      ]),
    );
  });

  it('lists every route of the router, and no route the router does not have', () => {
    const document = JSON.parse(committed) as OpenAPIObject;
    const documented = operations(document).map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    const routes = routerRoutes(testApp);
    expect(routes.length).toBeGreaterThan(20);
    expect([...new Set(routes)].sort()).toEqual([...documented].sort());
  });

  it('documents the limits it enforces', () => {
    const document = JSON.parse(committed) as OpenAPIObject;
    expect(document.info.description).toMatch(/100 kB/);
    expect(document.info.description).toMatch(/1,000 events/);
    const page = (document.paths['/api/v1/tenants/{tenantId}/sync-log'].get as Operation).parameters!.find(
      (parameter) => parameter.name === 'limit',
    ) as unknown as { schema: { maximum: number }; description: string };
    expect(page.schema.maximum).toBe(500);
    expect(page.description).toMatch(/422/);
  });
});
