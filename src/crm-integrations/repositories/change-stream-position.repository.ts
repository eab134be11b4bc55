import { Injectable } from '@nestjs/common';
import { ChangeStreamPosition, CrmConnection, newId } from '@pm/domain';
import { CrmRepository } from './base.repository';

/** A connection the change-stream subscriber looks at: only what it needs to decide and subscribe. */
export interface StreamCandidate {
  id: string;
  tenantId: string;
  provider: string;
  objects: string[];
  /** `settings.realtime === true`, read defensively: connections stored before the setting existed lack it. */
  realtime: boolean;
}

/** Change-stream positions per connection and channel; called from the subscriber (outside requests): forks. */
@Injectable()
export class ChangeStreamPositionRepository extends CrmRepository {
  /** Connected connections of a provider, with their real-time switch. */
  async connectedOf(provider: string): Promise<StreamCandidate[]> {
    const rows = await this.fork().find(CrmConnection, { provider, status: 'connected' });
    return rows.map((row) => {
      const settings = row.settings as unknown as Record<string, unknown>;
      return {
        id: row.id,
        tenantId: row.tenant.id,
        provider: row.provider,
        objects: Array.isArray(settings.objects) ? (settings.objects as string[]) : [],
        realtime: settings.realtime === true,
      };
    });
  }

  /** Channel → stored position ('all' after a gap: resume with everything retained). */
  async load(connectionId: string): Promise<Record<string, string>> {
    const rows = await this.fork().find(ChangeStreamPosition, { connection: connectionId });
    return Object.fromEntries(rows.map((row) => [row.channel, row.position ?? 'all']));
  }

  async save(connectionId: string, channel: string, position: string): Promise<void> {
    const em = this.fork();
    await em.upsert(
      ChangeStreamPosition,
      {
        id: newId(),
        connection: em.getReference(CrmConnection, connectionId),
        channel,
        position,
        updatedAt: new Date(),
      },
      {
        onConflictFields: ['connection', 'channel'],
        onConflictAction: 'merge',
        onConflictMergeFields: ['position', 'updatedAt'],
      },
    );
  }

  /** The stored position was refused: forget it (resume with everything retained) and mark the gap. */
  async markGap(connectionId: string, channel: string, at: Date): Promise<void> {
    const em = this.fork();
    await em.upsert(
      ChangeStreamPosition,
      {
        id: newId(),
        connection: em.getReference(CrmConnection, connectionId),
        channel,
        position: null,
        gapDetectedAt: at,
        updatedAt: at,
      },
      {
        onConflictFields: ['connection', 'channel'],
        onConflictAction: 'merge',
        onConflictMergeFields: ['position', 'gapDetectedAt', 'updatedAt'],
      },
    );
  }

  /** The channels of a connection whose stream lost its place (for the reconcile to pick up). */
  async gapsOf(connectionId: string): Promise<ChangeStreamPosition[]> {
    return this.fork().find(ChangeStreamPosition, { connection: connectionId, gapDetectedAt: { $ne: null } });
  }
}
