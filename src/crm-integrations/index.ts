/** The public surface of the plugin for host apps. */
export * from './crm-integrations.module';
export * from './crm-integrations.options';
export { CRM_ORM } from './database/crm-database';
export { ServiceTokenService, generateServiceToken } from './auth/service-token.service';
export { ConnectionActivityService } from './connections/connection-activity.service';
export { SyncLogService } from './sync/sync-log.service';
export { ContactService } from './contacts/contact.service';
export { TenantService } from './tenants/tenant.service';
export { keepChangeWebhookBodiesRaw, setupCrmHttp } from './http/setup-crm-http';
export {
  CHANGE_HINT_SINK,
  REALTIME_OPTIONS,
  type ChangeHint,
  type ChangeHintSink,
  type RealtimeOptions,
} from './realtime';
export * from './admin';
export { API_CLOCK, type ApiClock } from './http/api-clock';
export { IdempotencyService } from './idempotency/idempotency.service';
export { Idempotent, IdempotencyInterceptor } from './idempotency/idempotent.decorator';
export { CrmScreensService, SyncActivityService } from './screens';
