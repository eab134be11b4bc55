export * from './base.repository';
export * from './tenant.repository';
export * from './connection.repository';
export * from './connection-credential.repository';
export * from './contact.repository';
export * from './company.repository';
export * from './service-token.repository';
export * from './audit-log.repository';
export * from './provider-setting.repository';
export * from './oauth-state.repository';
export * from './sync-run.repository';
export * from './sync-log.repository';
export * from './record-link.repository';
export * from './sync-cursor.repository';
export * from './sync-retry.repository';
export * from './database-health.repository';
export * from './activity-contact.repository';
export * from './idempotency-key.repository';
export * from './contact-change.repository';
export * from './webhook.repository';
export * from './field-mapping.repository';
export * from './screens.repository';
export * from './change-hint.repository';
export * from './realtime-channel.repository';
export * from './retention.repository';

import { ActivityContactRepository } from './activity-contact.repository';
import { AuditLogRepository } from './audit-log.repository';
import { CompanyRepository } from './company.repository';
import { ConnectionCredentialRepository } from './connection-credential.repository';
import { ConnectionRepository } from './connection.repository';
import { ContactRepository } from './contact.repository';
import { DatabaseHealthRepository } from './database-health.repository';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { ContactChangeRepository } from './contact-change.repository';
import { WebhookRepository } from './webhook.repository';
import { FieldMappingRepository } from './field-mapping.repository';
import { ChangeHintRepository } from './change-hint.repository';
import { RealtimeChannelRepository } from './realtime-channel.repository';
import { RetentionRepository } from './retention.repository';
import { OAuthStateRepository } from './oauth-state.repository';
import { ProviderSettingRepository } from './provider-setting.repository';
import { RecordLinkRepository } from './record-link.repository';
import { ScreensRepository } from './screens.repository';
import { ServiceTokenRepository } from './service-token.repository';
import { SyncCursorRepository } from './sync-cursor.repository';
import { SyncLogRepository } from './sync-log.repository';
import { SyncRetryRepository } from './sync-retry.repository';
import { SyncRunRepository } from './sync-run.repository';
import { TenantRepository } from './tenant.repository';

/** One repository per aggregate: every query of the feature lives in one of these. */
export const REPOSITORIES = [
  ActivityContactRepository,
  TenantRepository,
  ConnectionRepository,
  ConnectionCredentialRepository,
  ContactRepository,
  CompanyRepository,
  ServiceTokenRepository,
  AuditLogRepository,
  ProviderSettingRepository,
  OAuthStateRepository,
  SyncRunRepository,
  SyncLogRepository,
  RecordLinkRepository,
  SyncCursorRepository,
  SyncRetryRepository,
  DatabaseHealthRepository,
  IdempotencyKeyRepository,
  ContactChangeRepository,
  WebhookRepository,
  FieldMappingRepository,
  ScreensRepository,
  ChangeHintRepository,
  RealtimeChannelRepository,
  RetentionRepository,
];
