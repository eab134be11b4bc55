import type { PropertyOptions, ResourceOptions } from 'adminjs';
import type { CrmComponents } from './crm-pages';

/** Properties shown by a component of the plugin's, per resource: coloured badges, a run's counts as a table. */
const PROPERTY_COMPONENTS: Record<string, Record<string, keyof CrmComponents>> = {
  CrmConnection: { status: 'statusProperty', health: 'statusProperty' },
  CrmSyncRun: { status: 'statusProperty', counts: 'runCountsProperty' },
};

/** The resource's options with its badge and table components set (list and show; forms keep their inputs). */
export function withCrmPropertyComponents(
  resourceId: string,
  options: ResourceOptions,
  components: CrmComponents,
): ResourceOptions {
  const wanted = PROPERTY_COMPONENTS[resourceId];
  if (!wanted) return options;
  const properties: Record<string, PropertyOptions> = { ...options.properties };
  for (const [path, component] of Object.entries(wanted)) {
    const id = components[component];
    const views = component === 'runCountsProperty' ? { show: id } : { list: id, show: id };
    properties[path] = { ...properties[path], components: { ...properties[path]?.components, ...views } };
  }
  return { ...options, properties };
}
