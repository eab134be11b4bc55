import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { AuditLogRepository, type AuditRecord } from '../repositories';

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditLogRepository) {}

  record(auth: Pick<AuthContext, 'actor'>, entry: Omit<AuditRecord, 'actor'>): Promise<void> {
    return this.audit.append({ ...entry, actor: auth.actor });
  }
}
