import { Inject, Injectable } from '@nestjs/common';
import { IntegrationPortRegistry } from '@pm/integration-port';
import type { CrmAdminIdentity } from '../admin/admin-identity';
import { ScreensRepository } from '../repositories';
import {
  FIELD_MAPPING_SCREEN_SOURCE,
  SAMPLE_COMPANY,
  SAMPLE_CONTACT,
  type FieldMappingScreenSource,
  type FieldMappingView,
  type MappingPreview,
  type MappingRowView,
  type MatchingKeyView,
} from './field-mapping-screen';
import { changerOf, findScreenConnection } from './screen-access';
import { connectionView, type ConnectionView } from './screen-views';

/** The Field mapping page, reading and writing through whichever `FieldMappingScreenSource` is bound. */
@Injectable()
export class FieldMappingScreenService {
  constructor(
    private readonly registry: IntegrationPortRegistry,
    private readonly screens: ScreensRepository,
    @Inject(FIELD_MAPPING_SCREEN_SOURCE) private readonly mappings: FieldMappingScreenSource,
  ) {}

  /** The Field mapping page: the CRM's fields beside PenguinMails's, one row per mapped field, and a sample. */
  async fieldMapping(
    identity: CrmAdminIdentity,
    connectionId: string,
  ): Promise<
    FieldMappingView & {
      connection: ConnectionView;
      sample: Record<string, string>;
      companySample: Record<string, string>;
      canChange: boolean;
    }
  > {
    const connection = await findScreenConnection(this.screens, identity, connectionId);
    const view = await this.mappings.view(connection);
    return {
      ...view,
      connection: connectionView(connection, this.displayName(connection.provider)),
      sample: { ...SAMPLE_CONTACT },
      companySample: { ...SAMPLE_COMPANY },
      canChange: identity.role !== 'viewer' && view.editable,
    };
  }

  async previewMapping(
    identity: CrmAdminIdentity,
    input: {
      connectionId: string;
      object: string;
      rows: MappingRowView[];
      sample: Record<string, string>;
      key?: MatchingKeyView;
    },
  ): Promise<MappingPreview> {
    const connection = await findScreenConnection(this.screens, identity, input.connectionId);
    return this.mappings.preview(connection, input.object, input.rows, input.sample, input.key);
  }

  async saveMapping(
    identity: CrmAdminIdentity,
    input: { connectionId: string; object: string; rows: MappingRowView[]; key?: MatchingKeyView },
  ): Promise<{ errors: Record<number, string> }> {
    const auth = changerOf(identity);
    const connection = await findScreenConnection(this.screens, identity, input.connectionId);
    return this.mappings.save(connection, input.object, input.rows, auth.actor, input.key);
  }

  private displayName(provider: string): string {
    return this.registry.has(provider) ? this.registry.get(provider).capabilities().displayName : provider;
  }
}
