import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Contact, CrmConnection, RecordLink } from '@pm/domain';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';
import { mappingTestKit } from './testing/mapping-test-kit';
import {
  hubSpotMappingBed,
  pipedriveMappingBed,
  salesforceMappingBed,
  type MappingBed,
} from './testing/mapping-crm-beds';

const PLATFORM_TOKEN = 'platform-token-for-matching-key-tests-0123456789';

const BEDS: [string, () => Promise<MappingBed>][] = [
  ['Salesforce', salesforceMappingBed],
  ['HubSpot', hubSpotMappingBed],
  ['Pipedrive', pipedriveMappingBed],
];

/**
 * A matching key of the tenant's own against each CRM's sandbox: a custom member-number field, records made with the
 * CRM's official SDK, the key saved through the API, and the engine (real connector, PostgreSQL) linking the
 * PenguinMails contact by the key, each way, where matching by e-mail would have made a duplicate.
 */
describe.each(BEDS)('matching on a custom key against the %s sandbox', (_name, start) => {
  let database: TestDatabase;
  let app: INestApplication;
  let bed: MappingBed;
  let connectionId: string;
  let keyField: string;
  const tenantId = 'keyed';

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await start();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { [bed.provider]: bed.port },
      sessions: { getSession: async () => bed.session, refreshSession: async () => bed.session },
      platformServiceToken: PLATFORM_TOKEN,
    });
    connectionId = (
      await seedConnection(app, { tenantId, provider: bed.provider, settings: { objects: [bed.object] } })
    ).id;
    keyField = await bed.addKeyField();
    const saved = await request(app.getHttpServer())
      .put(`/api/v1/tenants/${tenantId}/connections/${connectionId}/mappings`)
      .set({ Authorization: `Bearer ${PLATFORM_TOKEN}` })
      .send({
        object: bed.object,
        matchField: keyField,
        matchLocalField: 'customFields.memberNo',
        fields: [
          ...defaults().fields,
          { local: 'customFields.memberNo', crm: keyField, direction: 'both', codec: 'text' },
        ],
      })
      .expect(200);
    expect(saved.body).toMatchObject({ matchField: keyField, matchLocalField: 'customFields.memberNo' });
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  const kit = mappingTestKit(() => ({ app, bed, connectionId, tenantId }));
  const { defaults, orm, run, upsertLocal } = kit;

  const direct = async (direction: 'to_crm' | 'from_crm') => {
    const em = orm().em.fork();
    const connection = await em.findOneOrFail(CrmConnection, connectionId);
    connection.settings = { ...connection.settings, direction };
    await em.flush();
  };
  const holders = async (key: string) =>
    (await bed.port.findByField(bed.session, { object: bed.object, field: keyField, values: [key] })).map(
      (record) => record.id,
    );
  const linkOf = async (crmId: string) =>
    orm().em.fork().findOne(RecordLink, { connection: connectionId, crmId, unlinkedAt: null });

  it('outbound: the contact is linked to the SDK-made record holding its key, not created again', async () => {
    await direct('to_crm');
    const crmId = await bed.createWithSdk({
      email: 'out-crm@example.com',
      lastName: 'Outbound',
      keyField,
      key: 'M-41',
    });
    await upsertLocal('out-pm@example.com', { lastName: 'Outbound', customFields: { memberNo: 'M-41' } });
    const contact = await orm()
      .em.fork()
      .findOneOrFail(Contact, { tenant: tenantId, email: 'out-pm@example.com' });

    const result = await run();

    expect(result.status).toBe('succeeded');
    expect(await holders('M-41')).toEqual([crmId]);
    expect((await linkOf(crmId))?.localId).toBe(contact.id);
    // Matching by e-mail would have created a record for out-pm@: the key linked it to the existing one instead.
    const byEmail = await bed.port.findByEmail(bed.session, bed.object, ['out-pm@example.com']);
    expect(byEmail.map((record) => record.id)).toEqual([crmId]);
    expect(result.counts.to_crm[bed.object]).toMatchObject({ created: 0, updated: 1 });
  });

  it('inbound: the SDK-made record is linked to the contact holding its key, no second contact made', async () => {
    await direct('from_crm');
    await upsertLocal('in-pm@example.com', { lastName: 'Inbound', customFields: { memberNo: 'M-42' } });
    const contact = await orm()
      .em.fork()
      .findOneOrFail(Contact, { tenant: tenantId, email: 'in-pm@example.com' });
    const crmId = await bed.createWithSdk({
      email: 'in-crm@example.com',
      lastName: 'Inbound',
      keyField,
      key: 'M-42',
    });

    const result = await run();

    expect(result.status).toBe('succeeded');
    expect((await linkOf(crmId))?.localId).toBe(contact.id);
    const keyed = await orm()
      .em.fork()
      .find(Contact, { tenant: tenantId, email: { $in: ['in-pm@example.com', 'in-crm@example.com'] } });
    // One contact: the CRM record's e-mail (the e-mail entry flows both ways) is now the keyed contact's.
    expect(keyed.map((found) => [found.id, found.email])).toEqual([[contact.id, 'in-crm@example.com']]);
    expect(result.counts.from_crm[bed.object]).toMatchObject({ created: 0 });
  });
});
