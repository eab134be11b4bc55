import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CrmConnection } from '@pm/domain';
import type { IntegrationPort, UpsertResult } from '@pm/integration-port';
import {
  CrmGateway,
  crmRecordEmail,
  DefaultFieldMappingSource,
  encodeForCrm,
  LOCAL_CONTACT_OBJECT,
  type CrmGatewayOptions,
  type FieldMappingSource,
  type ObjectMapping,
  type SessionProvider,
} from '@pm/sync-engine';
import { ActivityContactRepository, RecordLinkRepository } from '../repositories';
import { EngineFieldMappings } from '../mappings/engine-field-mappings';
import type { LinkedRecord, LogLine } from './activity.repository';

export interface MissingContactsOutcome {
  /** E-mail → the CRM record it is now linked to (found by e-mail, or created). */
  links: Map<string, LinkedRecord>;
  lines: LogLine[];
}

/**
 * Brings contacts an e-mail event names, but the CRM lacks, into the CRM (the connection's `createMissingContacts`):
 * each e-mail is looked up in the CRM first, and only one not found is created, from the PenguinMails contact's
 * values through the connection's field mapping; either way the contact is linked as a sync would link it. Writes
 * go through the engine's gateway (batching, retries, the concurrency gate) on the port it is given (the rate
 * budget's `activity` priority).
 */
@Injectable()
export class MissingContacts {
  constructor(
    private readonly contacts: ActivityContactRepository,
    private readonly links: RecordLinkRepository,
    /** The mappings every engine run reads, so a contact is created as a sync would create it. */
    @Optional() @Inject(EngineFieldMappings) private readonly mappings?: FieldMappingSource,
  ) {}

  async link(
    connection: CrmConnection,
    port: IntegrationPort,
    sessions: SessionProvider,
    emails: string[],
    options: Pick<CrmGatewayOptions, 'retryPolicy' | 'sleep'>,
  ): Promise<MissingContactsOutcome> {
    const outcome: MissingContactsOutcome = { links: new Map(), lines: [] };
    const target = await this.targetObject(connection, port);
    if (!target || emails.length === 0) return outcome;
    const { object, mapping } = target;
    const locals = await this.contacts.ensureLocalContacts(connection.tenant.id, emails);
    if (locals.size === 0) return outcome;
    const gateway = await CrmGateway.open(port, sessions, connection.id, {
      ...options,
      findByEmailChunk: 100,
    });
    const crmName = port.capabilities().displayName;

    for (const record of await gateway.findByEmail(object, [...locals.keys()])) {
      const email = crmRecordEmail(mapping, record.fields);
      if (email && locals.has(email) && !outcome.links.has(email))
        outcome.links.set(email, { crmObject: object, crmId: record.id });
    }
    const toCreate = [...locals.values()].filter((local) => !outcome.links.has(local.email));
    const inputs = toCreate.map((local) => {
      const fields = encodeForCrm(mapping, local.values);
      if (!(mapping.emailField in fields)) fields[mapping.emailField] = local.email;
      return { key: local.email, fields };
    });
    // Just looked up and not found: the connector need not look again (a retry does).
    const results: Map<string, UpsertResult> =
      inputs.length > 0 ? await gateway.upsert(object, inputs, { createsMatched: true }) : new Map();
    for (const local of toCreate) {
      const result = results.get(local.email);
      const line = (action: LogLine['action'], message: string, details: Record<string, unknown>) =>
        outcome.lines.push({
          tenantId: connection.tenant.id,
          connectionId: connection.id,
          action,
          object,
          recordKey: local.email,
          message,
          details,
        });
      if (result?.ok) {
        outcome.links.set(local.email, { crmObject: object, crmId: result.crmId });
        line('created', `Contact created for an e-mail event → ${crmName}`, { crmId: result.crmId });
      } else {
        const error = result?.error ?? { code: 'UNKNOWN', message: 'The connector returned no result' };
        line('error', `Contact not created for an e-mail event → ${crmName}: ${error.message}`, {
          code: error.code,
        });
      }
    }
    await this.links.save(
      connection.id,
      [...outcome.links].map(([email, link]) => ({
        localObject: LOCAL_CONTACT_OBJECT,
        localId: (locals.get(email) as { id: string }).id,
        crmObject: link.crmObject,
        crmId: link.crmId,
        // Nothing synced yet: the next sync run compares the two sides field by field.
        synced: {},
        localUpdatedAt: null,
        crmModifiedAt: null,
        lastSyncedAt: null,
      })),
    );
    return outcome;
  }

  /** The first of the connection's objects the mapping covers: where a sync would create the contact. */
  private async targetObject(
    connection: CrmConnection,
    port: IntegrationPort,
  ): Promise<{ object: string; mapping: ObjectMapping } | undefined> {
    const source = this.mappings ?? new DefaultFieldMappingSource(port);
    const mappingConnection = {
      id: connection.id,
      tenantId: connection.tenant.id,
      provider: connection.provider,
    };
    const objects =
      connection.settings.objects.length > 0
        ? connection.settings.objects
        : port
            .capabilities()
            .objects.filter((object) => object.role === 'contact')
            .map((object) => object.name);
    for (const object of objects) {
      const mapping = await source.mappingFor(mappingConnection, object);
      if (mapping) return { object, mapping };
    }
    return undefined;
  }
}
