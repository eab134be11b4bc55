import type { INestApplication } from '@nestjs/common';

/** One HTTP route as the router holds it. */
export interface AppRoute {
  method: string;
  /** Express path pattern, e.g. `/api/v1/tenants/:tenantId/contacts/:contactId`. */
  path: string;
  params: string[];
  /** Reached with the service token (false: public or browser routes). */
  authenticated: boolean;
  /** Takes a JSON body. */
  body: boolean;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/**
 * Every route the app's Express router serves, read from the router itself, so a route added later is covered by
 * the campaign and the isolation tests without anyone listing it.
 */
export function appRoutes(app: INestApplication): AppRoute[] {
  const express = app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const routes: AppRoute[] = [];
  const seen = new Set<string>();
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const path of ([] as string[]).concat(layer.route.path)) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (!on || method === '_all') continue;
        const upper = method.toUpperCase();
        // Nest registers a controller's root both with and without the trailing slash: one route.
        const key = `${upper} ${path.replace(/\/$/, '')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        routes.push({
          method: upper,
          path,
          params: [...path.matchAll(/:(\w+)/g)].map((match) => match[1]),
          authenticated: path.startsWith('/api/v1/'),
          body: ['POST', 'PUT', 'PATCH'].includes(upper),
        });
      }
    }
  }
  return routes;
}

/** The path with each parameter filled in. */
export function fillPath(route: AppRoute, values: Record<string, string>): string {
  return route.path.replace(/:(\w+)/g, (_all, name: string) => encodeURIComponent(values[name] ?? 'x'));
}
