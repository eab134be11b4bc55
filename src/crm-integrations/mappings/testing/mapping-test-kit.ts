import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Contact, CrmConnection, SyncRun } from '@pm/domain';
import type { CrmRecord, FieldMappingEntry } from '@pm/integration-port';
import {
  ContactSyncRunner,
  DefaultFieldMappingSource,
  encodeForCrm,
  type LocalValues,
} from '@pm/sync-engine';
import { ContactService } from '../../contacts/contact.service';
import { CRM_ORM } from '../../database/crm-database';
import {
  RecordLinkRepository,
  SyncCursorRepository,
  SyncLogRepository,
  SyncRetryRepository,
} from '../../repositories';
import { LocalContactStoreAdapter } from '../../sync/local-contact-store';
import { toSyncConnection } from '../../sync/sync-executor';
import { inRequest } from '../../sync/testing/sync-test-app';
import { StoredFieldMappingSource } from '../stored-field-mapping.source';
import type { MappingBed } from './mapping-crm-beds';

/** A formula that would run for seconds: stopped at its deadline. */
export const SLOW = '$sum([1..10000].($i := $; $sum([1..10000].($ * $i))))';

export interface MappingTestContext {
  app: INestApplication;
  bed: MappingBed;
  connectionId: string;
  tenantId: string;
}

/**
 * What the field-mapping sandbox tests do besides calling the API: run the engine with the stored mapping, write and
 * read contacts on either side, and the mapping they save. `context` is read on each call (set in `beforeAll`).
 */
export function mappingTestKit(context: () => MappingTestContext) {
  const ctx = context;
  const defaults = () => new DefaultFieldMappingSource(ctx().bed.port).mappingFor(null, ctx().bed.object)!;
  const orm = () => ctx().app.get<MikroORM>(CRM_ORM);
  const local = (email: string) => orm().em.fork().findOne(Contact, { tenant: ctx().tenantId, email });

  /** One run of the engine with the stored mapping, as the sync executor runs it. */
  const run = async () => {
    const em = orm().em.fork();
    const row = em.create(SyncRun, {
      tenant: ctx().tenantId,
      connection: ctx().connectionId,
      trigger: 'manual',
    });
    await em.flush();
    const connection = toSyncConnection(await em.findOneOrFail(CrmConnection, ctx().connectionId));
    return new ContactSyncRunner({
      port: ctx().bed.port,
      sessions: { getSession: async () => ctx().bed.session, refreshSession: async () => ctx().bed.session },
      links: ctx().app.get(RecordLinkRepository),
      cursors: ctx().app.get(SyncCursorRepository),
      locals: ctx().app.get(LocalContactStoreAdapter),
      retries: ctx().app.get(SyncRetryRepository),
      log: ctx().app.get(SyncLogRepository),
      mappings: ctx().app.get(StoredFieldMappingSource),
      options: {
        sleep: async () => undefined,
        formulaLimits: { timeoutMs: 50, maxDepth: 250, maxSequence: 100_000, maxOutputChars: 10_000 },
      },
    }).run({ connection, runId: row.id });
  };

  const upsertLocal = (email: string, values: Record<string, unknown>) =>
    inRequest(ctx().app, () =>
      ctx()
        .app.get(ContactService)
        .upsert({ actor: 'test', tenantId: null }, ctx().tenantId, { email, ...values } as never),
    );

  const crmRecord = async (email: string): Promise<CrmRecord | undefined> => {
    const [found] = await ctx().bed.port.findByEmail(ctx().bed.session, ctx().bed.object, [email]);
    if (!found) return undefined;
    const fields = [
      ...new Set([
        ...Object.values(ctx().bed.fields).filter((f) => f !== ctx().bed.fields.readOnly),
        defaults().emailField,
      ]),
    ];
    const [record] = await ctx().bed.port.getRecords(ctx().bed.session, {
      object: ctx().bed.object,
      ids: [found.id],
      fields,
    });
    return record;
  };

  const writeCrm = async (values: LocalValues, custom: Record<string, unknown>, crmId?: string) => {
    const fields = { ...encodeForCrm(defaults(), values), ...custom };
    const [result] = await ctx().bed.port.upsertBatch(ctx().bed.session, {
      object: ctx().bed.object,
      records: [{ key: 'k', crmId, fields }],
    });
    if (!result.ok) throw new Error(`staging write failed: ${JSON.stringify(result)}`);
    return result.crmId;
  };

  /** The mapping the tests save: defaults, custom fields, a value-mapped picklist, a formula each way. */
  const goodFields = (required: { local: string; crm: string }[] = []): FieldMappingEntry[] => [
    ...defaults().fields.map((entry) =>
      entry.crm === ctx().bed.fields.title ? { ...entry, direction: 'from_crm' as const } : entry,
    ),
    { local: 'customFields.colour', crm: ctx().bed.fields.colour, direction: 'both', codec: 'text' },
    {
      local: 'leadStatus',
      crm: ctx().bed.fields.stage,
      direction: 'both',
      codec: 'text',
      valueMap: {
        toCrm: { prospect: ctx().bed.stageValues[0], customer: ctx().bed.stageValues[1] },
        fromCrm: { [ctx().bed.stageValues[0]]: 'prospect', [ctx().bed.stageValues[1]]: 'customer' },
      },
    },
    {
      crm: ctx().bed.fields.summary,
      direction: 'to_crm',
      codec: 'text',
      formula: {
        toCrm: `firstName = 'Bad' ? $error('no summary for Bad') : firstName = 'Slow' ? ${SLOW} : $uppercase(firstName) & ' ' & lastName`,
      },
    },
    {
      local: 'customFields.domain',
      direction: 'from_crm',
      codec: 'text',
      formula: { fromCrm: `$lowercase($substringAfter(${ctx().bed.emailExpression}, '@'))` },
    },
    ...required
      .filter((entry) => !defaults().fields.some((candidate) => candidate.crm === entry.crm))
      .map((entry) => ({
        local: entry.local as never,
        crm: entry.crm,
        direction: 'both' as const,
        codec: 'text' as const,
      })),
  ];

  return { defaults, orm, local, run, upsertLocal, crmRecord, writeCrm, goodFields };
}
