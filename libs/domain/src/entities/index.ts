export * from './common';
export * from './tenant.entity';
export * from './contact.entity';
export * from './company.entity';
export * from './crm-connection.entity';
export * from './connection-credential.entity';
export * from './provider-setting.entity';
export * from './record-link.entity';
export * from './sync-cursor.entity';
export * from './sync-run.entity';
export * from './sync-log-entry.entity';
export * from './sync-retry-item.entity';
export * from './audit-log-entry.entity';
export * from './admin-user.entity';
export * from './service-token.entity';
export * from './oauth-state.entity';
export * from './rate-budget-state.entity';
export * from './activity-event.entity';
export * from './activity-delivery.entity';
export * from './activity-message-record.entity';
export * from './idempotency-key.entity';
export * from './contact-change.entity';
export * from './webhook-endpoint.entity';
export * from './webhook-delivery.entity';
export * from './field-mapping-config.entity';
export * from './change-hint.entity';
export * from './realtime-channel.entity';
export * from './change-stream-position.entity';
export * from './change-stream-lease.entity';
export * from './retention-mark.entity';

import { ActivityDelivery } from './activity-delivery.entity';
import { ActivityEvent } from './activity-event.entity';
import { ActivityMessageRecord } from './activity-message-record.entity';
import { AdminUser } from './admin-user.entity';
import { AuditLogEntry } from './audit-log-entry.entity';
import { Company } from './company.entity';
import { ConnectionCredential } from './connection-credential.entity';
import { Contact } from './contact.entity';
import { CrmConnection } from './crm-connection.entity';
import { ProviderSetting } from './provider-setting.entity';
import { RecordLink } from './record-link.entity';
import { ServiceToken } from './service-token.entity';
import { OAuthState } from './oauth-state.entity';
import { RateBudgetState } from './rate-budget-state.entity';
import { SyncCursorState } from './sync-cursor.entity';
import { SyncLogEntry } from './sync-log-entry.entity';
import { SyncRun } from './sync-run.entity';
import { SyncRetryItem } from './sync-retry-item.entity';
import { Tenant } from './tenant.entity';
import { IdempotencyKey } from './idempotency-key.entity';
import { ContactChange } from './contact-change.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { CrmFieldCache, FieldMappingConfig } from './field-mapping-config.entity';
import { ChangeHintRecord } from './change-hint.entity';
import { RealtimeChannel } from './realtime-channel.entity';
import { ChangeStreamPosition } from './change-stream-position.entity';
import { ChangeStreamLease } from './change-stream-lease.entity';
import { RetentionMark } from './retention-mark.entity';

/** Every entity of the product, for the ORM config and AdminJS. */
export const ALL_ENTITIES = [
  Tenant,
  Contact,
  Company,
  CrmConnection,
  ConnectionCredential,
  ProviderSetting,
  RecordLink,
  SyncCursorState,
  SyncRun,
  SyncLogEntry,
  SyncRetryItem,
  AuditLogEntry,
  AdminUser,
  ServiceToken,
  OAuthState,
  RateBudgetState,
  ActivityEvent,
  ActivityDelivery,
  ActivityMessageRecord,
  IdempotencyKey,
  ContactChange,
  WebhookEndpoint,
  WebhookDelivery,
  FieldMappingConfig,
  CrmFieldCache,
  ChangeHintRecord,
  RealtimeChannel,
  ChangeStreamPosition,
  ChangeStreamLease,
  RetentionMark,
];
