import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HttpException, Logger } from '@nestjs/common';
import type { AdminPages, ComponentLoader, PageContext, PageHandler } from 'adminjs';
import type { CrmScreensService } from '../screens/crm-screens.service';
import type { MappingRowView, MatchingKeyView } from '../screens/field-mapping-screen';
import type { CrmAdminIdentity, CrmAdminResolver } from './admin-identity';

/** The plugin's React components: shipped as source beside this file (bundled by AdminJS, not by tsc). */
function componentsDir(): string {
  const beside = join(__dirname, 'components');
  if (existsSync(join(beside, 'crm-ui.jsx'))) return beside;
  // The compiled build runs from dist/src/crm-integrations/admin; the .jsx sources stay in src/.
  return join(__dirname, '..', '..', '..', '..', 'src', 'crm-integrations', 'admin', 'components');
}

export interface CrmComponents {
  home: string;
  connect: string;
  configuration: string;
  syncActivity: string;
  adminControls: string;
  fieldMapping: string;
  statusProperty: string;
  runCountsProperty: string;
}

/** Registers the plugin's components with the host's ComponentLoader (names prefixed: they share its namespace). */
export function registerCrmComponents(loader: ComponentLoader): CrmComponents {
  const add = (name: string, file: string) => loader.add(name, join(componentsDir(), file));
  return {
    home: add('CrmHome', 'crm-home'),
    connect: add('CrmConnect', 'crm-connect'),
    configuration: add('CrmConfiguration', 'crm-configuration'),
    syncActivity: add('CrmSyncActivity', 'crm-sync-activity'),
    adminControls: add('CrmAdminControls', 'crm-admin-controls'),
    fieldMapping: add('CrmFieldMapping', 'crm-field-mapping'),
    statusProperty: add('CrmStatusProperty', 'crm-status-property'),
    runCountsProperty: add('CrmRunCountsProperty', 'crm-run-counts-property'),
  };
}

/** The pages' names in AdminJS's menu. */
export const CRM_PAGE_LABELS = {
  crmHome: 'Home',
  crmConnect: 'Connect a CRM',
  crmConfiguration: 'Configuration',
  crmSyncActivity: 'Sync Activity',
  crmAdminControls: 'Admin controls',
  crmFieldMapping: 'Field mapping',
};

type Input = Record<string, unknown>;
type Operation = (identity: CrmAdminIdentity, input: Input) => Promise<unknown>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
/** The Field mapping page's matching key: each side as typed, or left out (kept as saved). */
const matchingKeyOf = (input: Input): MatchingKeyView => ({
  matchField: text(input.matchField),
  matchLocalField: text(input.matchLocalField),
});
const logger = new Logger('CrmAdminPages');

/** What a person reads when an operation is refused: the service's own words, never internals. */
function messageOf(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'object' && response && 'detail' in response) return String(response.detail);
    return error.message;
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 'Something went wrong; the error is in the service log.';
}

/**
 * One page handler: GET reads the page (`load`, with the query), POST runs `{ op, body }` (a JSON text) through
 * `operations[op]`. Answers `{ rootPath, data }` or `{ rootPath, error }`.
 */
function handler(
  resolveAdmin: CrmAdminResolver,
  load: Operation,
  operations: Record<string, Operation> = {},
): PageHandler {
  return async (request, _response, context: PageContext) => {
    const rootPath = (context._admin.options.rootPath ?? '').replace(/\/+$/, '');
    const identity = resolveAdmin(context.currentAdmin as Record<string, unknown> | undefined);
    if (!identity) return { rootPath, error: 'You may not use the CRM screens.' };
    try {
      if (request.method !== 'post') return { rootPath, data: await load(identity, request.query ?? {}) };
      const payload = (request.payload ?? {}) as Record<string, unknown>;
      const operation = operations[String(payload.op)];
      if (!operation) return { rootPath, error: `Unknown operation "${String(payload.op)}"` };
      let input: Input;
      try {
        input = JSON.parse(String(payload.body ?? '{}')) as Input;
      } catch {
        return { rootPath, error: 'The request was not understood.' };
      }
      return { rootPath, data: await operation(identity, input ?? {}) };
    } catch (error) {
      return { rootPath, error: messageOf(error) };
    }
  };
}

/** The seed's screens as AdminJS pages, each reading and changing through CrmScreensService. */
export function crmPages(
  screens: CrmScreensService,
  resolveAdmin: CrmAdminResolver,
  components: CrmComponents,
): AdminPages {
  const connectionId = (input: Input) => text(input.connectionId) ?? '';
  const page = (
    component: string,
    icon: string,
    load: Operation,
    operations?: Record<string, Operation>,
  ) => ({
    component,
    icon,
    handler: handler(resolveAdmin, load, operations),
  });
  return {
    crmHome: page(components.home, 'Home', (identity, input) => screens.home(identity, text(input.tenantId))),
    crmConnect: page(
      components.connect,
      'Link',
      (identity, input) => screens.connect(identity, text(input.tenantId)),
      {
        start: (identity, input) =>
          screens.startConnect(identity, {
            tenantId: text(input.tenantId) ?? '',
            provider: text(input.provider) ?? '',
            returnTo: text(input.returnTo) ?? '',
            connectionId: text(input.connectionId),
          }),
      },
    ),
    crmConfiguration: page(
      components.configuration,
      'Settings',
      async (identity, input) =>
        input.connectionId
          ? screens.configuration(identity, connectionId(input))
          : { connections: (await screens.syncActivity(identity, {})).connections },
      {
        save: (identity, input) =>
          screens.saveSettings(identity, connectionId(input), (input.settings ?? {}) as Input),
        disconnect: (identity, input) => screens.disconnect(identity, connectionId(input)),
        reconnect: (identity, input) =>
          screens.reconnect(identity, connectionId(input), text(input.returnTo) ?? ''),
      },
    ),
    crmSyncActivity: page(
      components.syncActivity,
      'Activity',
      (identity, input) =>
        screens.syncActivity(identity, {
          tenantId: text(input.tenantId),
          connectionId: text(input.connectionId),
        }),
      {
        syncNow: (identity, input) => screens.syncNow(identity, connectionId(input)),
        reconcileNow: (identity, input) => screens.reconcileNow(identity, connectionId(input)),
        log: (identity, input) =>
          screens.fullLog(identity, {
            tenantId: text(input.tenantId),
            connectionId: text(input.connectionId),
            direction: text(input.direction),
            action: text(input.action),
            errorsOnly: input.errorsOnly === true,
            from: text(input.from),
            to: text(input.to),
            cursor: text(input.cursor),
            pageSize: Number(input.pageSize) || 20,
          }),
      },
    ),
    crmFieldMapping: page(
      components.fieldMapping,
      'Shuffle',
      (identity, input) => screens.mapping.fieldMapping(identity, connectionId(input)),
      {
        preview: (identity, input) =>
          screens.mapping.previewMapping(identity, {
            connectionId: connectionId(input),
            object: text(input.object) ?? '',
            rows: Array.isArray(input.rows) ? (input.rows as MappingRowView[]) : [],
            sample: Object.fromEntries(
              Object.entries((input.sample ?? {}) as Input).map(([key, value]) => [key, String(value ?? '')]),
            ),
            key: matchingKeyOf(input),
          }),
        save: (identity, input) =>
          screens.mapping.saveMapping(identity, {
            connectionId: connectionId(input),
            object: text(input.object) ?? '',
            rows: Array.isArray(input.rows) ? (input.rows as MappingRowView[]) : [],
            key: matchingKeyOf(input),
          }),
      },
    ),
    crmAdminControls: page(
      components.adminControls,
      'Sliders',
      (identity) => screens.controls.adminControls(identity),
      {
        provider: async (identity, input) => {
          await screens.controls.setProviderEnabled(identity, {
            provider: text(input.provider) ?? '',
            tenantId: text(input.tenantId) ?? null,
            enabled: input.enabled === true,
          });
          return { saved: true };
        },
        frequency: (identity, input) =>
          screens.saveSettings(identity, connectionId(input), { frequency: input.frequency }),
      },
    ),
  };
}
