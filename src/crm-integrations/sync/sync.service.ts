import { ConflictException, Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { ConnectionService } from '../connections/connection.service';
import { RecordLinkRepository, SyncRunRepository } from '../repositories';
import { SyncRuns } from './sync-runs';
import { ContactProvenanceDto, SyncNowResponseDto, SyncRunResponseDto } from './sync.dto';

/** Priority of a user's "Sync now" over scheduled background runs. */
const INTERACTIVE_PRIORITY = 10;

@Injectable()
export class SyncService {
  constructor(
    private readonly connections: ConnectionService,
    private readonly runs: SyncRuns,
    private readonly runRepository: SyncRunRepository,
    private readonly links: RecordLinkRepository,
  ) {}

  /** The seed's "Sync now": queues a run, or returns the one already waiting. */
  async syncNow(_auth: AuthContext, tenantId: string, connectionId: string): Promise<SyncNowResponseDto> {
    const connection = await this.connections.require(tenantId, connectionId);
    const refusal = await this.runs.whyNotRunnable(connection);
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
    const connection = await this.connections.require(tenantId, connectionId);
    const runs = await this.runRepository.listForConnection(connection.id, limit);
    return runs.map((run) => SyncRunResponseDto.from(run));
  }

  /** "Why does this field hold this value?": each mapped field's last synced value, side, time and rule. */
  async contactProvenance(
    _auth: AuthContext,
    tenantId: string,
    connectionId: string,
    contactId: string,
  ): Promise<ContactProvenanceDto[]> {
    const connection = await this.connections.require(tenantId, connectionId);
    const links = await this.links.contactLinks(connection.id, contactId);
    return links.map((link) => ContactProvenanceDto.from(link));
  }
}
