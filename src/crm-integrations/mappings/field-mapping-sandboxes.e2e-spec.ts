import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { AuditLogEntry } from '@pm/domain';
import type { FieldMappingEntry } from '@pm/integration-port';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { ServiceTokenService } from '../auth/service-token.service';
import { inRequest, seedConnection, startSyncTestApp } from '../sync/testing/sync-test-app';
import { mappingTestKit, SLOW } from './testing/mapping-test-kit';
import {
  hubSpotMappingBed,
  pipedriveMappingBed,
  salesforceMappingBed,
  type MappingBed,
} from './testing/mapping-crm-beds';

const PLATFORM_TOKEN = 'platform-token-for-field-mapping-tests-0123456789';

const BEDS: [string, () => Promise<MappingBed>][] = [
  ['Salesforce', salesforceMappingBed],
  ['HubSpot', hubSpotMappingBed],
  ['Pipedrive', pipedriveMappingBed],
];

/**
 * Field mapping end to end against each CRM's sandbox, through the HTTP API and the real connector: live discovery
 * with custom fields, every validation error, then a saved mapping run by the engine (custom fields both ways, value
 * maps, a formula each way, per-field directions, failing formulas failing only their records), the preview, and a
 * direction change re-comparing linked records on the next run.
 */
describe.each(BEDS)('field mapping against the %s sandbox', (_name, start) => {
  let database: TestDatabase;
  let app: INestApplication;
  let bed: MappingBed;
  let http: ReturnType<typeof request>;
  let connectionId: string;
  let base: string;
  const tenantId = 'mapper';
  const auth = { Authorization: `Bearer ${PLATFORM_TOKEN}` };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await start();
    app = await startSyncTestApp({
      databaseUrl: database.url,
      connectors: { [bed.provider]: bed.port },
      sessions: { getSession: async () => bed.session, refreshSession: async () => bed.session },
      platformServiceToken: PLATFORM_TOKEN,
    });
    http = request(app.getHttpServer());
    const connection = await seedConnection(app, {
      tenantId,
      provider: bed.provider,
      settings: { objects: [bed.object] },
    });
    await seedConnection(app, { tenantId: 'other-tenant', provider: bed.provider });
    connectionId = connection.id;
    base = `/api/v1/tenants/${tenantId}/connections/${connectionId}`;
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  const kit = mappingTestKit(() => ({ app, bed, connectionId, tenantId }));
  const { defaults, orm, local, run, upsertLocal, crmRecord, writeCrm, goodFields } = kit;

  it('discovers the CRM’s fields live, custom ones included, cached until refreshed', async () => {
    const first = await http.get(`${base}/fields`).query({ object: bed.object }).set(auth).expect(200);
    const byName = new Map(first.body[0].fields.map((field: { name: string }) => [field.name, field]));
    expect(byName.get(bed.fields.colour)).toMatchObject({ custom: true, readOnly: false, type: 'string' });
    expect(byName.get(bed.fields.score)).toMatchObject({ custom: true, type: 'number' });
    expect(byName.get(bed.fields.stage)).toMatchObject({ type: 'picklist' });
    expect(
      (byName.get(bed.fields.stage) as { options: { value: string }[] }).options.map((o) => o.value),
    ).toEqual(bed.stageValues);
    expect(byName.get(bed.fields.readOnly)).toMatchObject({ readOnly: true });

    const later = bed.addFieldLater();
    const cached = await http.get(`${base}/fields`).query({ object: bed.object }).set(auth).expect(200);
    expect(cached.body[0].fields.map((field: { name: string }) => field.name)).not.toContain(later);
    const refreshed = await http
      .get(`${base}/fields`)
      .query({ object: bed.object, refresh: 'true' })
      .set(auth)
      .expect(200);
    expect(refreshed.body[0].fields.find((field: { name: string }) => field.name === later)).toMatchObject({
      custom: true,
    });
    expect(Date.parse(refreshed.body[0].fetchedAt)).toBeGreaterThanOrEqual(
      Date.parse(first.body[0].fetchedAt),
    );

    await http.get(`${base}/fields`).query({ object: 'Nope' }).set(auth).expect(400);
    // Another tenant's path never reaches this connection, nor does its token.
    const theirs = `/api/v1/tenants/other-tenant/connections/${connectionId}`;
    await http.get(`${theirs}/fields`).set(auth).expect(404);
    await http.get(`${theirs}/mappings`).set(auth).expect(404);
    await http.put(`${theirs}/mappings`).set(auth).send({ object: bed.object, fields: [] }).expect(404);
    await http
      .post(`${theirs}/mappings/preview`)
      .set(auth)
      .send({ object: bed.object, email: 'a@b.co' })
      .expect(404);
    const otherToken = await inRequest(app, () =>
      app.get(ServiceTokenService).issue('other', 'other-tenant'),
    );
    await http
      .get(`${base}/mappings`)
      .set({ Authorization: `Bearer ${otherToken.token}` })
      .expect(403);
  });

  it('refuses each invalid mapping with problem+json naming the field', async () => {
    const put = (fields: FieldMappingEntry[], extra: Record<string, unknown> = {}) =>
      http
        .put(`${base}/mappings`)
        .set(auth)
        .send({ object: bed.object, fields, ...extra });
    const base_ = defaults().fields;
    const broken = await put([
      ...base_,
      { local: 'customFields.colour', crm: 'no_such_field_xyz', direction: 'both', codec: 'text' },
      { local: 'phone', crm: bed.fields.readOnly, direction: 'both', codec: 'text' },
      { local: 'title', crm: bed.fields.score, direction: 'to_crm', codec: 'text' },
      { local: 'lifecycleStage', crm: bed.fields.stage, direction: 'to_crm', codec: 'text' },
      { local: 'leadStatus', crm: base_[1].crm, direction: 'both', codec: 'text' },
      { crm: bed.fields.summary, direction: 'to_crm', codec: 'text', formula: { toCrm: 'firstName &' } },
      {
        local: 'customFields.x',
        direction: 'from_crm',
        codec: 'text',
        formula: { fromCrm: 'not_a_crm_field_q' },
      },
    ]).expect(400);
    expect(broken.headers['content-type']).toMatch(/application\/problem\+json/);
    const n = base_.length;
    const names = broken.body.invalidParams.map((param: { name: string }) => param.name);
    expect(names).toEqual(
      expect.arrayContaining([
        `fields[${n}].crm`,
        `fields[${n + 1}].direction`,
        `fields[${n + 2}].crm`,
        `fields[${n + 3}].valueMap`,
        `fields[${n + 1}].local`,
        `fields[${n + 4}].crm`,
        `fields[${n + 5}].formula.toCrm`,
        `fields[${n + 6}].formula.fromCrm`,
      ]),
    );
    const reasonOf = (name: string) =>
      broken.body.invalidParams.find((param: { name: string }) => param.name === name)?.reason;
    expect(reasonOf(`fields[${n}].crm`)).toBe('"no_such_field_xyz" is not a field of this CRM object');
    expect(reasonOf(`fields[${n + 1}].direction`)).toMatch(/read-only/);
    expect(reasonOf(`fields[${n + 2}].crm`)).toMatch(
      /is a number field; the text of title cannot be written/,
    );
    expect(reasonOf(`fields[${n + 3}].valueMap`)).toMatch(/is a picklist; give a toCrm value map/);
    expect(reasonOf(`fields[${n + 1}].local`)).toMatch(/"phone" is already written by fields\[\d\]/);
    expect(reasonOf(`fields[${n + 4}].crm`)).toMatch(/already written by fields\[1\]; one source per target/);
    expect(reasonOf(`fields[${n + 5}].formula.toCrm`)).toMatch(/not a valid JSONata formula/);
    expect(reasonOf(`fields[${n + 6}].formula.fromCrm`)).toBe(
      'reads "not_a_crm_field_q", which is not a field here',
    );

    const badValue = await put([
      ...base_,
      {
        local: 'lifecycleStage',
        crm: bed.fields.stage,
        direction: 'to_crm',
        codec: 'text',
        valueMap: { toCrm: { a: 'Nope' } },
      },
    ]).expect(400);
    expect(badValue.body.invalidParams[0].name).toBe(`fields[${n}].valueMap.toCrm.a`);

    const matchOnNumber = await put([...base_], { matchField: bed.fields.score }).expect(400);
    expect(matchOnNumber.body.invalidParams).toEqual([
      { name: 'matchField', reason: expect.stringContaining('records are matched on an e-mail') },
    ]);

    const required = bed.makeRequired();
    if (required.field !== '') {
      const missing = await put(base_.filter((entry) => entry.crm !== required.field)).expect(400);
      expect(missing.body.invalidParams).toContainEqual({
        name: 'fields',
        reason: expect.stringContaining(`requires "${required.field}" to create a record`),
      });
    }
    const unknownLocal = await put([
      ...base_,
      { local: 'shoeSize' as never, crm: bed.fields.colour, direction: 'both', codec: 'text' },
    ]).expect(400);
    expect(unknownLocal.body.invalidParams[0].name).toBe(`fields[${n}].local`);

    const object = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({ object: 'Opportunity', fields: base_ })
      .expect(400);
    expect(object.body.invalidParams).toEqual([
      { name: 'object', reason: expect.stringContaining('cannot be synced by this connection') },
    ]);
    const settings = await http
      .patch(`${base}/settings`)
      .set(auth)
      .send({ objects: [bed.object, 'Opportunity'] })
      .expect(400);
    expect(settings.body.invalidParams).toEqual([
      {
        name: 'objects.1',
        reason: expect.stringContaining('"Opportunity" cannot be synced by this connection'),
      },
    ]);
    const shape = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({ object: bed.object, fields: [{ local: 'email' }] })
      .expect(400);
    expect(shape.body.invalidParams.map((param: { name: string }) => param.name)).toContain(
      'fields.0.direction',
    );

    // Nothing was saved: the mapping is still the connector's defaults.
    const current = await http.get(`${base}/mappings`).query({ object: bed.object }).set(auth).expect(200);
    expect(current.body[0]).toMatchObject({ version: 1, fields: base_, updatedBy: null });
  });

  it('syncs with a saved mapping: custom fields both ways, value maps, formulas each way, per-field directions', async () => {
    const required = bed.makeRequired();
    const saved = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({ object: bed.object, fields: goodFields(required.satisfiedBy) });
    expect(saved.body.invalidParams ?? []).toEqual([]);
    expect(saved.body).toMatchObject({
      version: 2,
      updatedBy: expect.any(String),
      impact: { linkedRecords: 0 },
    });
    const [audit] = await orm()
      .em.fork()
      .find(AuditLogEntry, { action: 'field_mapping.updated', targetId: connectionId });
    expect(audit).toMatchObject({
      tenantId,
      before: { version: 1 },
      after: { version: 2, object: bed.object },
    });
    expect((audit.after as { changedFields: string[] }).changedFields).toEqual(
      expect.arrayContaining(['customFields.colour', `=${bed.fields.summary}`, 'customFields.domain']),
    );

    const region = required.satisfiedBy.some((entry) => entry.local === 'customFields.region')
      ? { region: 'EMEA' }
      : {};
    await upsertLocal('ada@example.com', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      title: 'Local title',
      leadStatus: 'prospect',
      customFields: { colour: 'teal', ...region },
    });
    await upsertLocal('bad@example.com', { firstName: 'Bad', lastName: 'Formula', customFields: region });
    await upsertLocal('slow@example.com', { firstName: 'Slow', lastName: 'Formula', customFields: region });
    const graceId = await writeCrm(
      { email: 'grace@Navy.example', firstName: 'Grace', lastName: 'Hopper', title: 'CRM title' },
      { [bed.fields.colour]: 'amber', [bed.fields.stage]: bed.stageValues[1] },
    );

    const first = await run();
    expect(first.status).toBe('partial');
    expect(first.counts.to_crm?.[bed.object]).toMatchObject({ errors: 2 });
    const ada = await crmRecord('ada@example.com');
    expect(ada?.fields).toMatchObject({
      [bed.fields.colour]: 'teal',
      [bed.fields.stage]: expect.anything(),
      [bed.fields.summary]: 'ADA Lovelace',
    });
    expect(String(ada?.fields[bed.fields.stage])).toBe(bed.stageValues[0]);
    // title flows from the CRM only: the local title is not written.
    expect(ada?.fields[bed.fields.title] ?? null).toBeNull();
    expect(await crmRecord('bad@example.com')).toBeUndefined();
    expect(await crmRecord('slow@example.com')).toBeUndefined();
    const grace = await local('grace@navy.example');
    expect(grace).toMatchObject({ title: 'CRM title', leadStatus: 'customer' });
    expect(grace?.customFields).toMatchObject({ colour: 'amber', domain: 'navy.example' });
    const lines = await orm()
      .em.getConnection()
      .execute<
        { message: string }[]
      >(`select message from sync_log_entries where connection_id = ? and action = 'error'`, [connectionId]);
    expect(lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`bad@example.com → .*Formula for =${bed.fields.summary} failed: no summary for Bad`),
        ),
        expect.stringMatching(/slow@example.com → .*failed: it ran longer than 50 ms \(stopped\)/),
      ]),
    );

    // Both ways again: a CRM edit of the custom field comes in, a local edit goes out.
    await writeCrm({}, { [bed.fields.colour]: 'ruby' }, graceId);
    await upsertLocal('ada@example.com', { customFields: { colour: 'jade' } });
    const second = await run();
    expect(second.counts.from_crm?.[bed.object]).toMatchObject({ errors: 0 });
    expect((await local('grace@navy.example'))?.customFields).toMatchObject({ colour: 'ruby' });
    expect((await crmRecord('ada@example.com'))?.fields[bed.fields.colour]).toBe('jade');
  });

  it('previews a saved or proposed mapping on a real record from either side', async () => {
    const ada = await local('ada@example.com');
    const fromLocal = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.object, contactId: ada?.id })
      .expect(200);
    const byKey = (body: { fields: { key: string }[] }, key: string) =>
      body.fields.find((field) => field.key === key);
    expect(byKey(fromLocal.body, `=${bed.fields.summary}`)).toMatchObject({
      toCrm: { value: 'ADA Lovelace' },
    });
    expect(byKey(fromLocal.body, 'leadStatus')).toMatchObject({ toCrm: { value: bed.stageValues[0] } });
    expect(fromLocal.body.problems).toEqual([]);

    const grace = await crmRecord('grace@navy.example');
    const fromCrm = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.object, crmRecordId: grace?.id })
      .expect(200);
    expect(byKey(fromCrm.body, 'customFields.domain')).toMatchObject({ fromCrm: { value: 'navy.example' } });
    expect(byKey(fromCrm.body, 'leadStatus')).toMatchObject({ fromCrm: { value: 'customer' } });

    const proposed = {
      object: bed.object,
      fields: [
        ...defaults().fields,
        { crm: bed.fields.summary, direction: 'to_crm', codec: 'text', formula: { toCrm: "$error('nope')" } },
        { local: 'title', crm: bed.fields.score, direction: 'to_crm', codec: 'text' },
      ],
    };
    const tried = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.object, email: 'ada@example.com', mapping: proposed })
      .expect(200);
    expect(byKey(tried.body, `=${bed.fields.summary}`)).toMatchObject({
      toCrm: { error: expect.stringContaining('nope') },
    });
    expect(tried.body.problems).toContainEqual({
      name: `fields[${defaults().fields.length + 1}].crm`,
      reason: expect.stringContaining('number'),
    });
    const missing = await http
      .post(`${base}/mappings/preview`)
      .set(auth)
      .send({ object: bed.object })
      .expect(400);
    expect(missing.body.invalidParams[0].name).toBe('contactId');
  });

  it('a direction change reports the linked records that will change and re-compares them next run', async () => {
    const required = bed.makeRequired();
    const fields = goodFields(required.satisfiedBy).map((entry) =>
      entry.crm === bed.fields.title ? { ...entry, direction: 'both' as const } : entry,
    );
    const saved = await http
      .put(`${base}/mappings`)
      .set(auth)
      .send({ object: bed.object, fields })
      .expect(200);
    expect(saved.body.impact).toMatchObject({
      changedFields: ['title'],
      recordsThatWillChange: 1,
    });
    expect(saved.body.impact.linkedRecords).toBeGreaterThanOrEqual(2);
    expect(saved.body.impact.recordsToCompare).toBe(saved.body.impact.linkedRecords);
    // Ada has not changed since the last run: only the re-comparison sends her title now.
    const outcome = await run();
    expect(outcome.counts.to_crm?.[bed.object]).toMatchObject({ updated: 1 });
    expect((await crmRecord('ada@example.com'))?.fields[bed.fields.title]).toBe('Local title');
  });

  it('answers any malformed mapping or preview with 4xx problem+json, never a server error', async () => {
    const names = [...Object.values(bed.fields), 'no_such_field', ''];
    const entry = fc.record(
      {
        local: fc.oneof(
          fc.constantFrom('email', 'title', 'customFields.x', 'customFields.', 'x'),
          fc.jsonValue(),
        ),
        crm: fc.oneof(fc.constantFrom(...names), fc.string(), fc.jsonValue()),
        direction: fc.oneof(fc.constantFrom('both', 'to_crm', 'from_crm'), fc.jsonValue()),
        codec: fc.oneof(fc.constantFrom('text', 'email', 'primary_of_list'), fc.jsonValue()),
        valueMap: fc.oneof(fc.record({ toCrm: fc.dictionary(fc.string(), fc.string()) }), fc.jsonValue()),
        formula: fc.oneof(
          fc.record(
            {
              toCrm: fc.oneof(
                fc.string(),
                fc.constantFrom('($f := function(){ $f() }; $f())', 'firstName &'),
              ),
              fromCrm: fc.oneof(fc.string(), fc.constant(SLOW)),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        associated: fc.oneof(fc.record({ object: fc.string(), field: fc.string() }), fc.jsonValue()),
      },
      { requiredKeys: ['direction'] },
    );
    const mapping = fc.record(
      {
        object: fc.oneof(fc.constant(bed.object), fc.jsonValue()),
        matchField: fc.oneof(fc.constantFrom(...names), fc.jsonValue()),
        matchLocalField: fc.oneof(
          fc.constantFrom('email', 'customFields.memberNo', 'firstName'),
          fc.jsonValue(),
        ),
        fields: fc.oneof(fc.array(entry, { maxLength: 4 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const acceptable = (response: request.Response) =>
      response.status < 300 ||
      (response.status < 500 && /^application\/problem\+json/.test(String(response.headers['content-type'])));
    await fc.assert(
      fc.asyncProperty(mapping, async (body) => {
        const saved = await http.put(`${base}/mappings`).set(auth).send(body);
        if (!acceptable(saved)) throw new Error(`PUT answered ${saved.status}: ${saved.text}`);
        const previewed = await http
          .post(`${base}/mappings/preview`)
          .set(auth)
          .send({ object: bed.object, email: 'ada@example.com', mapping: body });
        if (!acceptable(previewed))
          throw new Error(`preview answered ${previewed.status}: ${previewed.text}`);
      }),
      { numRuns: 25 },
    );
  });
});
