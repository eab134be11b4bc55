export * from './base.repository';
export * from './tenant.repository';
export * from './connection.repository';
export * from './contact.repository';
export * from './service-token.repository';
export * from './audit-log.repository';

import { AuditLogRepository } from './audit-log.repository';
import { ConnectionRepository } from './connection.repository';
import { ContactRepository } from './contact.repository';
import { ServiceTokenRepository } from './service-token.repository';
import { TenantRepository } from './tenant.repository';

export const REPOSITORIES = [
  TenantRepository,
  ConnectionRepository,
  ContactRepository,
  ServiceTokenRepository,
  AuditLogRepository,
];
