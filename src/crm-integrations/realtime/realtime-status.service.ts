import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConnectionService } from '../connections/connection.service';
import { ChangeHintRepository } from '../repositories';
import type { RealtimeStatusDto } from './realtime.dto';
import { REALTIME_OPTIONS, resolveRealtimeOptions, type RealtimeOptions } from './realtime.tokens';

/** A connection's real-time figures: whether it is on, and the measured end-to-end lag. */
@Injectable()
export class RealtimeStatusService {
  private readonly options: ReturnType<typeof resolveRealtimeOptions>;

  constructor(
    private readonly connections: ConnectionService,
    private readonly hints: ChangeHintRepository,
    @Optional() @Inject(REALTIME_OPTIONS) options?: RealtimeOptions,
  ) {
    this.options = resolveRealtimeOptions(options);
  }

  async status(tenantId: string, connectionId: string): Promise<RealtimeStatusDto> {
    const connection = await this.connections.require(tenantId, connectionId);
    const figures = await this.hints.lagFigures(
      connection.id,
      this.options.lagSampleSize,
      this.options.now(),
    );
    return { enabled: connection.settings.realtime === true, ...figures };
  }
}
