import type { MikroORM } from '@mikro-orm/core';
import type { AdminJSOptions, AdminPages, ComponentLoader, Locale, ResourceWithOptions } from 'adminjs';
import type { CrmScreensService } from '../screens/crm-screens.service';
import { defaultCrmAdminResolver, type CrmAdminResolver } from './admin-identity';
import { loadAdminJs } from './adminjs-runtime';
import { defineCrmEntityResource } from './crm-entity-resource';
import { CRM_PAGE_LABELS, crmPages, registerCrmComponents } from './crm-pages';
import { crmResourceActions } from './crm-resource-actions';
import { withCrmPropertyComponents } from './crm-resource-components';
import { CRM_ADMIN_NAVIGATION, CRM_RESOURCE_DEFINITIONS } from './crm-resources';

export interface CrmAdminContributionOptions {
  /** The plugin's MikroORM instance: inject `CRM_ORM` from CrmIntegrationsModule. */
  orm: MikroORM;
  /** The host's ComponentLoader, so the plugin's components bundle with the host's. Default: a new one. */
  componentLoader?: ComponentLoader;
  /** How the host's `currentAdmin` maps to a CRM role and tenant (default: see `defaultCrmAdminResolver`). */
  resolveAdmin?: CrmAdminResolver;
  /**
   * The screens' service (inject `CrmScreensService` from CrmIntegrationsModule): with it come the pages (Home,
   * Connect, Configuration, Sync Activity, admin controls) and the dashboard; without it only the resources.
   */
  screens?: CrmScreensService;
}

/** What a host spreads into its own `new AdminJS({...})` (or @adminjs/nestjs `adminJsOptions`). */
export interface CrmAdminContribution {
  resources: ResourceWithOptions[];
  pages: AdminPages;
  componentLoader: ComponentLoader;
  /** The navigation groups the resources are filed under. */
  navigation: typeof CRM_ADMIN_NAVIGATION;
  /** English labels of the plugin's resources and pages; merge `translations.en` into the host's locale. */
  locale: Locale;
  /** The Home screen as AdminJS's dashboard (replaces the stock "Welcome on Board"); the host may use its own. */
  dashboard?: AdminJSOptions['dashboard'];
}

/**
 * The plugin's AdminJS screens for a host's AdminJS: one resource per entity an admin may see (never the
 * credentials), scoped to the admin's tenant, audited on every change.
 *
 * @example
 * const crm = await createCrmAdminContribution({ orm, componentLoader });
 * new AdminJS({ rootPath: '/backoffice', componentLoader, resources: [...crm.resources, ...mine],
 *   pages: { ...crm.pages, ...myPages }, locale: crm.locale });
 */
export async function createCrmAdminContribution(
  options: CrmAdminContributionOptions,
): Promise<CrmAdminContribution> {
  const runtime = await loadAdminJs();
  const resolveAdmin = options.resolveAdmin ?? defaultCrmAdminResolver;
  const componentLoader = options.componentLoader ?? new runtime.adminjs.ComponentLoader();
  const components = registerCrmComponents(componentLoader);
  const CrmEntityResource = defineCrmEntityResource(runtime);
  const referenceIds = new Map(
    CRM_RESOURCE_DEFINITIONS.map(({ policy }) => [policy.entity.name, policy.resourceId]),
  );
  const resources = CRM_RESOURCE_DEFINITIONS.map((definition) => ({
    resource: new CrmEntityResource(options.orm, definition.policy, resolveAdmin, referenceIds),
    options: {
      ...withCrmPropertyComponents(definition.policy.resourceId, definition.options, components),
      navigation: definition.navigation,
      actions: crmResourceActions(definition.policy, resolveAdmin),
    },
  }));
  const labels = Object.fromEntries(
    CRM_RESOURCE_DEFINITIONS.map(({ policy, label }) => [policy.resourceId, label]),
  );
  const pages = options.screens ? crmPages(options.screens, resolveAdmin, components) : {};
  return {
    resources,
    pages,
    componentLoader,
    navigation: CRM_ADMIN_NAVIGATION,
    locale: {
      language: 'en',
      translations: { en: { labels, ...(options.screens ? { pages: CRM_PAGE_LABELS } : {}) } },
    },
    ...(options.screens ? { dashboard: { component: components.home } } : {}),
  };
}
