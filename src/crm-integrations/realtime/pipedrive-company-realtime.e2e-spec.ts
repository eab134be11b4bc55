import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { v2 } from 'pipedrive';
import { ChangeHintRecord, Company, CrmConnection, RecordLink } from '@pm/domain';
import { startPipedriveTestBed, type PipedriveTestBed } from '@pm/connectors/pipedrive/testing';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { CRM_ORM } from '../database/crm-database';
import { seedConnection } from '../sync/testing/sync-test-app';
import { TokenVault } from '../vault/token-vault';
import { TargetedSyncExecutor } from './targeted-sync.executor';
import { startRealtimeTestApp } from './testing/realtime-test-app';

const TOKEN = `pmcrm_${'o'.repeat(40)}`;
const TENANT = 'rt-pipedrive-orgs';

/**
 * Pipedrive organizations end to end: with real-time on, the connection's v2.0 webhooks include organizations; a
 * user's integration (the official `pipedrive` SDK) creates, renames and deletes an organization in the sandbox, and
 * the targeted sync reads it back by id and applies it through the company sync, so the PenguinMails company follows
 * within the lag measured on the sandbox's clock.
 */
describe('real-time sync of Pipedrive organizations', () => {
  let database: TestDatabase;
  let bed: PipedriveTestBed;
  let app: INestApplication;
  let url: string;
  let connectionId: string;
  let organizations: v2.OrganizationsApi;
  let nowMs = Math.floor(Date.now() / 1000) * 1000;

  const orm = () => app.get<MikroORM>(CRM_ORM).em.fork();
  const companies = () => orm().find(Company, { tenant: TENANT }, { orderBy: { createdAt: 'asc' } });
  const orgHints = () =>
    orm().find(
      ChangeHintRecord,
      { connection: connectionId, object: 'organizations' },
      { orderBy: { receivedAt: 'asc' } },
    );
  const deliverAndApply = async (applyAtMs: number) => {
    await bed.sandbox.webhooks.idle();
    nowMs = applyAtMs;
    return app.get(TargetedSyncExecutor).process(connectionId);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    bed = await startPipedriveTestBed();
    const tokens = await bed.signIn();
    const session = await bed.session();
    ({ app, url } = await startRealtimeTestApp({
      databaseUrl: database.url,
      connectors: { pipedrive: bed.connector },
      sessions: { getSession: async () => session, refreshSession: async () => session },
      realtime: { now: () => new Date(nowMs), debounceMs: 0 },
      platformServiceToken: TOKEN,
    }));
    const connection = await seedConnection(app, {
      tenantId: TENANT,
      provider: 'pipedrive',
      settings: { objects: ['persons', 'organizations'] },
    });
    connectionId = connection.id;
    await orm().nativeUpdate(
      CrmConnection,
      { id: connectionId },
      { crmAccountId: tokens.account.id, instanceUrl: tokens.instanceUrl ?? null },
    );
    await app.get(TokenVault).save(connectionId, tokens);
    const patched = await fetch(`${url}/api/v1/tenants/${TENANT}/connections/${connectionId}/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ realtime: true }),
    });
    expect(patched.status).toBe(200);
    organizations = new v2.OrganizationsApi(
      new v2.Configuration({
        accessToken: tokens.accessToken,
        basePath: `${tokens.instanceUrl ?? bed.baseUrl}/api/v2`,
      }),
    );
    // Past every instant the sandbox has stamped: its store keeps timestamps rising (see pipedrive-realtime).
    nowMs = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
    bed.sandbox.clock.freeze(nowMs);
  });

  afterAll(async () => {
    await app?.close();
    await bed?.close();
    await database?.drop();
  });

  it('brings an organization created and renamed with the SDK into PenguinMails, with the lag measured', async () => {
    const t0 = nowMs;
    const created = await organizations.addOrganization({
      AddOrganizationRequest: { name: 'Penguin Labs' },
    });
    const id = created.data!.id!;
    expect(await deliverAndApply(t0 + 600)).toBe('applied');
    expect(await companies()).toEqual([expect.objectContaining({ name: 'Penguin Labs' })]);

    bed.sandbox.clock.set(t0 + 20_000);
    await organizations.updateOrganization({ id, UpdateOrganizationRequest: { name: 'Penguin Labs GmbH' } });
    expect(await deliverAndApply(t0 + 20_000 + 1_200)).toBe('applied');
    expect(await companies()).toEqual([expect.objectContaining({ name: 'Penguin Labs GmbH' })]);
    expect(
      (await orgHints()).map((hint) => ({ action: hint.action, lagMs: hint.lagMs, outcome: hint.outcome })),
    ).toEqual([
      { action: 'created', lagMs: 600, outcome: 'present' },
      { action: 'updated', lagMs: 1_200, outcome: 'present' },
    ]);
  });

  it('ends the link of an organization deleted with the SDK and keeps the company (propagateDeletes off)', async () => {
    const [link] = await orm().find(RecordLink, {
      connection: connectionId,
      crmObject: 'organizations',
      unlinkedAt: null,
    });
    expect(link).toBeDefined();
    await organizations.deleteOrganization({ id: Number(link.crmId) });
    expect(await deliverAndApply(nowMs + 800)).toBe('applied');

    expect((await orgHints()).at(-1)).toMatchObject({ action: 'deleted', outcome: 'gone' });
    expect(
      await orm().findOne(RecordLink, { connection: connectionId, crmId: link.crmId, unlinkedAt: null }),
    ).toBeNull();
    expect(await companies()).toEqual([
      expect.objectContaining({ name: 'Penguin Labs GmbH', deletedAt: null }),
    ]);
  });
});
