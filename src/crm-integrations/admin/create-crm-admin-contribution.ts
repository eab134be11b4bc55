import type { MikroORM } from '@mikro-orm/core';
import type { AdminPages, ComponentLoader, Locale, ResourceWithOptions } from 'adminjs';
import { defaultCrmAdminResolver, type CrmAdminResolver } from './admin-identity';
import { loadAdminJs } from './adminjs-runtime';
import { defineCrmEntityResource } from './crm-entity-resource';
import { CRM_ADMIN_NAVIGATION, CRM_RESOURCE_DEFINITIONS, crmResourceActions } from './crm-resources';

export interface CrmAdminContributionOptions {
  /** The plugin's MikroORM instance: inject `CRM_ORM` from CrmIntegrationsModule. */
  orm: MikroORM;
  /** The host's ComponentLoader, so the plugin's components bundle with the host's. Default: a new one. */
  componentLoader?: ComponentLoader;
  /** How the host's `currentAdmin` maps to a CRM role and tenant (default: see `defaultCrmAdminResolver`). */
  resolveAdmin?: CrmAdminResolver;
}

/** What a host spreads into its own `new AdminJS({...})` (or @adminjs/nestjs `adminJsOptions`). */
export interface CrmAdminContribution {
  resources: ResourceWithOptions[];
  pages: AdminPages;
  componentLoader: ComponentLoader;
  /** The navigation groups the resources are filed under. */
  navigation: typeof CRM_ADMIN_NAVIGATION;
  /** English labels of the plugin's resources; merge `translations.en.labels` into the host's locale. */
  locale: Locale;
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
  const CrmEntityResource = defineCrmEntityResource(runtime);
  const referenceIds = new Map(
    CRM_RESOURCE_DEFINITIONS.map(({ policy }) => [policy.entity.name, policy.resourceId]),
  );
  const resources = CRM_RESOURCE_DEFINITIONS.map((definition) => ({
    resource: new CrmEntityResource(options.orm, definition.policy, resolveAdmin, referenceIds),
    options: {
      ...definition.options,
      navigation: definition.navigation,
      actions: crmResourceActions(definition.policy, resolveAdmin),
    },
  }));
  const labels = Object.fromEntries(
    CRM_RESOURCE_DEFINITIONS.map(({ policy, label }) => [policy.resourceId, label]),
  );
  return {
    resources,
    pages: {},
    componentLoader: options.componentLoader ?? new runtime.adminjs.ComponentLoader(),
    navigation: CRM_ADMIN_NAVIGATION,
    locale: { language: 'en', translations: { en: { labels } } },
  };
}
