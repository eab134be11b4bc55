/**
 * The plugin's AdminJS contribution, for any host's AdminJS (the standalone service is simply the first host).
 *
 * A host that already runs Nest + AdminJS:
 *   1. imports `CrmIntegrationsModule.forRoot({...})` (global: `CRM_ORM` becomes injectable);
 *   2. in its AdminJS factory (`inject: [CRM_ORM]`) calls `createCrmAdminContribution({ orm, componentLoader })`
 *      and spreads `resources` and `pages` into its own options, passes the same `componentLoader`, and merges
 *      `locale.translations.en.labels` into its locale;
 *   3. maps its own logged-in admins onto CRM roles with `resolveAdmin` if some of them are tenant-scoped (by
 *      default an admin without `role: 'tenant_admin'` + `tenantId` sees every tenant).
 * With a root path other than /admin, set AdminJS's `loginPath`/`logoutPath` too (they default to /admin/…).
 * test/host-app shows a complete host.
 */
export * from './create-crm-admin-contribution';
export * from './admin-identity';
export { authenticateAdminUser } from './admin-auth';
export {
  loadAdminJs,
  useOneShotComponentBundling,
  type AdminJsModule,
  type AdminJsRuntime,
} from './adminjs-runtime';
export { CRM_ADMIN_NAVIGATION } from './crm-resources';
