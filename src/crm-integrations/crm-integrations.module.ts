import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type ModuleMetadata,
  type NestModule,
  type Provider,
} from '@nestjs/common';
import { IntegrationPortRegistry } from '@pm/integration-port';
import { AuditService } from './audit/audit.service';
import { ServiceAuthGuard } from './auth/service-auth.guard';
import { ServiceTokenService } from './auth/service-token.service';
import { ConnectionService } from './connections/connection.service';
import { ConnectionsController } from './connections/connections.controller';
import { ConnectionActivityService } from './connections/connection-activity.service';
import { TenantActivityController } from './connections/tenant-activity.controller';
import { CompaniesController } from './companies/companies.controller';
import { CompanyService } from './companies/company.service';
import { ContactService } from './contacts/contact.service';
import { ContactBatchService } from './contacts/contact-batch.service';
import { ContactChangeFeedService } from './contacts/contact-change-feed.service';
import { API_CLOCK, type ApiClock } from './http/api-clock';
import { IdempotencyService } from './idempotency/idempotency.service';
import { ContactsController } from './contacts/contacts.controller';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from './crm-integrations.options';
import { CRM_ORM, crmOrmProvider, secretBoxProvider } from './database/crm-database';
import { OrmLifecycle } from './database/orm-lifecycle';
import { CrmRequestContextMiddleware } from './database/request-context.middleware';
import { integrationPortProviders } from './connectors/integration-ports.provider';
import { ProviderAccessService } from './connectors/provider-access.service';
import { HealthController } from './health/health.controller';
import { ConnectFlowService } from './oauth/connect-flow.service';
import { OAuthCallbackController } from './oauth/oauth-callback.controller';
import { OAuthStateStore } from './oauth/oauth-state.store';
import { TokenVault } from './vault/token-vault';
import { REPOSITORIES, RetentionRepository } from './repositories';
import { TenantService } from './tenants/tenant.service';
import { TenantsController } from './tenants/tenants.controller';
import { ServiceTokensController } from './service-tokens/service-tokens.controller';
import { SYNC_EXPORTS, SYNC_PROVIDERS, SyncController } from './sync';
import { SCREEN_EXPORTS, SCREEN_PROVIDERS } from './screens';
import { ACTIVITY_EXPORTS, ACTIVITY_PROVIDERS, ActivitiesController } from './activities';
import { WEBHOOK_EXPORTS, WEBHOOK_PROVIDERS, WebhooksController } from './webhooks';
import { FieldMappingsController, MAPPING_PROVIDERS } from './mappings';
import { REALTIME_CONTROLLERS, REALTIME_EXPORTS, REALTIME_PROVIDERS } from './realtime';
import { RECONCILE_EXPORTS, RECONCILE_PROVIDERS, ReconcileController } from './reconcile';
import { CONTACT_PUSH_EXPORTS, CONTACT_PUSH_PROVIDERS } from './push';

export interface CrmIntegrationsAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: never[] | unknown[];
  useFactory: (...args: never[]) => CrmIntegrationsOptions | Promise<CrmIntegrationsOptions>;
}

const CONTROLLERS = [
  HealthController,
  TenantsController,
  ConnectionsController,
  ContactsController,
  CompaniesController,
  OAuthCallbackController,
  SyncController,
  ActivitiesController,
  ServiceTokensController,
  TenantActivityController,
  WebhooksController,
  FieldMappingsController,
  ...REALTIME_CONTROLLERS,
  ReconcileController,
];

const SERVICES: Provider[] = [
  crmOrmProvider,
  secretBoxProvider,
  OrmLifecycle,
  ...REPOSITORIES,
  AuditService,
  ServiceTokenService,
  ServiceAuthGuard,
  TenantService,
  ConnectionService,
  ConnectionActivityService,
  ContactService,
  ContactBatchService,
  ContactChangeFeedService,
  {
    provide: API_CLOCK,
    inject: [CRM_INTEGRATIONS_OPTIONS],
    useFactory: (options: CrmIntegrationsOptions): ApiClock => ({ now: options.clock ?? (() => new Date()) }),
  },
  IdempotencyService,
  CompanyService,
  ...integrationPortProviders,
  ProviderAccessService,
  TokenVault,
  OAuthStateStore,
  ConnectFlowService,
  ...SYNC_PROVIDERS,
  ...ACTIVITY_PROVIDERS,
  ...WEBHOOK_PROVIDERS,
  ...MAPPING_PROVIDERS,
  ...SCREEN_PROVIDERS,
  ...REALTIME_PROVIDERS,
  ...RECONCILE_PROVIDERS,
  ...CONTACT_PUSH_PROVIDERS,
];

/** What a host may inject from the plugin. */
const EXPORTS = [
  CRM_ORM,
  API_CLOCK,
  IdempotencyService,
  CRM_INTEGRATIONS_OPTIONS,
  ServiceTokenService,
  ContactService,
  TenantService,
  TokenVault,
  IntegrationPortRegistry,
  ConnectionActivityService,
  // The workers' retention pass (SyncWorkersModule) deletes through it.
  RetentionRepository,
  ...SYNC_EXPORTS,
  ...ACTIVITY_EXPORTS,
  ...WEBHOOK_EXPORTS,
  ...SCREEN_EXPORTS,
  ...REALTIME_EXPORTS,
  ...RECONCILE_EXPORTS,
  ...CONTACT_PUSH_EXPORTS,
];

/**
 * The whole CRM integrations feature as one module a host app imports: its database, HTTP API and (as they land)
 * scheduler and workers. The AdminJS screens come separately as `createCrmAdminContribution()`, for the host to
 * spread into its own AdminJS. The standalone service in src/main.ts is simply the first host.
 */
@Module({})
export class CrmIntegrationsModule implements NestModule {
  static forRoot(options: CrmIntegrationsOptions): DynamicModule {
    return this.build([{ provide: CRM_INTEGRATIONS_OPTIONS, useValue: options }]);
  }

  static forRootAsync(options: CrmIntegrationsAsyncOptions): DynamicModule {
    return this.build(
      [
        {
          provide: CRM_INTEGRATIONS_OPTIONS,
          useFactory: options.useFactory,
          inject: (options.inject ?? []) as never[],
        },
      ],
      options.imports,
    );
  }

  private static build(optionsProviders: Provider[], imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: CrmIntegrationsModule,
      // Global so the host's own modules (its AdminJS module above all) can inject CRM_ORM and the services.
      global: true,
      imports,
      controllers: CONTROLLERS,
      providers: [...optionsProviders, ...SERVICES],
      exports: EXPORTS,
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CrmRequestContextMiddleware).forRoutes(...CONTROLLERS);
  }
}
