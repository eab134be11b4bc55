/** The public surface of the plugin for host apps. */
export * from './crm-integrations.module';
export * from './crm-integrations.options';
export { CRM_ORM } from './database/crm-database';
export { ServiceTokenService, generateServiceToken } from './auth/service-token.service';
export { ContactService } from './contacts/contact.service';
export { TenantService } from './tenants/tenant.service';
export { setupCrmHttp } from './http/setup-crm-http';
export * from './admin';
export { CrmScreensService, SyncActivityService } from './screens';
