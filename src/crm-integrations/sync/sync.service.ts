import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import type { AuthContext } from '../auth/auth-context';
import { ConnectionRepository } from '../repositories';
import { TenantService } from '../tenants/tenant.service';
import { SyncRuns } from './sync-runs';
import {
  ContactProvenanceDto,
  SyncLogEntryResponseDto,
  SyncNowResponseDto,
  SyncRunResponseDto,
} from './sync.dto';

/** Priority of a user's "Sync now" over scheduled background runs. */
const INTERACTIVE_PRIORITY = 10;

@Injectable()
export class SyncService {
  constructor(
    private readonly tenants: TenantService,
    private readonly connections: ConnectionRepository,
    private readonly runs: SyncRuns,
  ) {}

  /** The seed's "Sync now": queues a run, or returns the one already waiting. */
  async syncNow(_auth: AuthContext, tenantId: string, connectionId: string): Promise<SyncNowResponseDto> {
    const connection = await this.require(tenantId, connectionId);
    const refusal = await this.runs.whyNotRunnable(this.runs.fork(), connection);
    if (refusal) throw new ConflictException(`Cannot sync now: ${refusal}`);
    const { run, queued } = await this.runs.request({ id: connection.id, tenantId }, 'manual', {
      priority: INTERACTIVE_PRIORITY,
    });
    return { queued, run: SyncRunResponseDto.from(run) };
  }

  async listRuns(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    limit = 50,
  ): Promise<SyncRunResponseDto[]> {
    const connection = await this.require(tenantId, connectionId);
    return (await this.runs.listRuns(connection.id, limit)).map((run) => SyncRunResponseDto.from(run));
  }

  async listLog(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    options: { limit?: number; runId?: string } = {},
  ): Promise<SyncLogEntryResponseDto[]> {
    const connection = await this.require(tenantId, connectionId);
    const entries = await this.runs.listLog(connection.id, options.limit ?? 100, options.runId);
    return entries.map((entry) => SyncLogEntryResponseDto.from(entry));
  }

  /** "Why does this field hold this value?": each mapped field's last synced value, side, time and rule. */
  async contactProvenance(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    contactId: string,
  ): Promise<ContactProvenanceDto[]> {
    const connection = await this.require(tenantId, connectionId);
    const links = await this.runs.contactLinks(connection.id, contactId);
    return links.map((link) => ContactProvenanceDto.from(link));
  }

  private async require(tenantId: string, connectionId: string): Promise<CrmConnection> {
    await this.tenants.require(tenantId);
    const connection = await this.connections.findForTenant(tenantId, connectionId);
    if (!connection)
      throw new NotFoundException(`Connection "${connectionId}" does not exist for this tenant`);
    return connection;
  }
}
