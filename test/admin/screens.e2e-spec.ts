import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AdminUser,
  AuditLogEntry,
  ChangeHintRecord,
  ConnectionCredential,
  Contact,
  CrmConnection,
  FieldMappingConfig,
  hashPassword,
  SecretBox,
  SyncLogEntry,
  SyncRun,
  Tenant,
} from '@pm/domain';
import type { Browser, BrowserContext } from 'playwright-core';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime, type StandaloneRuntime } from '../../src/standalone/runtime';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { csrfHeader, launchBrowser, logIn } from './browser';
import {
  changeSettings,
  chooseMatchingKey,
  connectFromConnectPage,
  disconnectAndReconnect,
  editMappingWithFormula,
  freePort,
  pageApi,
  pageUrl,
  screenshot,
  syncNow,
  type Screens,
} from './screens-flow';

const bundleDir = mkdtempSync(join(tmpdir(), 'pmcrm-screens-adminjs-'));
process.env.ADMIN_JS_TMP_DIR = bundleDir;

const SUPERADMIN = { email: 'root@example.com', password: 'root-password-1' };
const TENANT_ADMIN = { email: 'acme-admin@example.com', password: 'acme-password-1' };
const VIEWER = { email: 'acme-viewer@example.com', password: 'viewer-password-1' };
/** A line only tenant beta has: a tenant admin of acme must never see it. */
const BETA_SECRET_LINE = 'Contact synced: beta-only@beta.example → Salesforce';

/**
 * The seed's screens in Chromium against the demo service (the CRM sandboxes of `npm start`): connect HubSpot and
 * Salesforce from the Connect page, settings with a validation error, Sync Now with counts and log lines,
 * disconnect (the sandbox counts the revocation) and reconnect, admin controls, a viewer and a tenant admin.
 * It also takes the README's screenshots.
 */
describe('the CRM screens in the standalone service (demo mode)', () => {
  let database: TestDatabase;
  let runtime: StandaloneRuntime;
  let app: NestExpressApplication;
  let orm: MikroORM;
  let browser: Browser;
  let context: BrowserContext;
  let s: Screens;
  let hubspotId: string;
  let salesforceId: string;
  let betaConnectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    runtime = await prepareRuntime({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-screens-test-')),
      LOG_LEVEL: 'silent',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ADMIN_EMAIL: SUPERADMIN.email,
      ADMIN_PASSWORD: SUPERADMIN.password,
    });
    app = await createStandaloneApp(runtime);
    await app.listen(port, '127.0.0.1');
    orm = app.get<MikroORM>(CRM_ORM);

    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
    const beta = em.create(Tenant, { id: 'beta', name: 'Beta GmbH' });
    em.create(Contact, { tenant: acme, email: 'ada@acme.example', firstName: 'Ada', lastName: 'Lovelace' });
    const betaConnection = em.create(CrmConnection, {
      tenant: beta,
      provider: 'salesforce',
      label: 'Beta Salesforce',
      status: 'connected',
      crmAccountName: 'Beta Org',
    });
    em.create(SyncLogEntry, {
      tenant: beta,
      connection: betaConnection,
      direction: 'to_crm',
      object: 'Contact',
      recordKey: 'beta-only@beta.example',
      action: 'created',
      message: BETA_SECRET_LINE,
    });
    for (const [user, role] of [
      [TENANT_ADMIN, 'tenant_admin'],
      [VIEWER, 'viewer'],
    ] as const) {
      em.create(AdminUser, {
        email: user.email,
        passwordHash: await hashPassword(user.password),
        role,
        tenant: acme,
      });
    }
    await em.flush();
    betaConnectionId = betaConnection.id;

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 1100 } });
    s = { page: await context.newPage(), baseUrl: `http://127.0.0.1:${port}`, rootPath: '/admin' };
    // Starting the whole service, bundling AdminJS's components and a browser: over a minute on a busy machine.
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await runtime?.stop();
    await database?.drop();
    rmSync(bundleDir, { recursive: true, force: true });
    // Closing waits for a run still going (the reconcile the test queued): up to pg-boss's 30 s graceful stop.
  }, 180_000);

  it('brands the login page and replaces the stock dashboard with Home', async () => {
    await s.page.goto(`${s.baseUrl}/admin/login`);
    await s.page.getByText('PenguinMails CRM Integrations').first().waitFor();
    await screenshot(s.page, 'login');
    await logIn(s.page, s.baseUrl, '/admin', SUPERADMIN);
    await s.page.getByTestId('crm-home').waitFor();
    await s.page.getByText('Acme Inc (acme)').waitFor();
    expect(await s.page.content()).not.toContain('Welcome on Board');
  });

  it('connects HubSpot and Salesforce from the Connect page through the sandboxes’ consent pages', async () => {
    await s.page.goto(pageUrl(s, 'crmConnect', { tenantId: 'acme' }));
    await s.page.getByText('Coming Soon').waitFor();
    await s.page.getByText('Zoho, Close').waitFor();
    await screenshot(s.page, 'connect');
    hubspotId = await connectFromConnectPage(s, {
      tenantId: 'acme',
      provider: 'hubspot',
      crmName: 'HubSpot',
      consentShot: 'sandbox-consent',
    });
    salesforceId = await connectFromConnectPage(s, {
      tenantId: 'acme',
      provider: 'salesforce',
      crmName: 'Salesforce',
    });
    const em = orm.em.fork();
    for (const id of [hubspotId, salesforceId]) {
      expect(await em.findOneOrFail(CrmConnection, id)).toMatchObject({ status: 'connected' });
    }
    const audit = await em.find(AuditLogEntry, { action: 'connection.connected', tenantId: 'acme' });
    expect(audit.map((entry) => entry.actor)).toEqual([
      `admin:${SUPERADMIN.email}`,
      `admin:${SUPERADMIN.email}`,
    ]);
  });

  it('never shows a credential: not in any screen nor in what the screens load', async () => {
    const credential = await orm.em
      .fork()
      .findOneOrFail(ConnectionCredential, { connection: hubspotId }, { populate: ['sealed'] });
    const tokens = JSON.parse(app.get(SecretBox).open(credential, hubspotId)) as {
      accessToken: string;
      refreshToken: string;
    };
    const secrets = [tokens.accessToken, tokens.refreshToken, credential.sealed];
    const answers = await Promise.all([
      pageApi(s, 'crmHome', {}),
      pageApi(s, 'crmConfiguration', { query: { connectionId: hubspotId } }),
      pageApi(s, 'crmSyncActivity', { query: { connectionId: hubspotId } }),
      pageApi(s, 'crmAdminControls', {}),
    ]);
    await s.page.goto(pageUrl(s, 'crmConfiguration', { connectionId: hubspotId }));
    await s.page.getByText('HubSpot Configuration').waitFor();
    const seen = JSON.stringify(answers) + (await s.page.content());
    for (const secret of secrets) expect(seen).not.toContain(secret);
  });

  it('saves settings, with the error beside its field first', async () => {
    await changeSettings(s, salesforceId, ['Contacts', 'Leads']);
    const connection = await orm.em.fork().findOneOrFail(CrmConnection, salesforceId);
    expect(connection.settings).toMatchObject({
      objects: ['Contact'],
      conflictPolicy: 'most_recent',
      frequency: 'hourly',
    });
    const audit = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'connection.settings.updated', targetId: salesforceId });
    expect(audit.actor).toBe(`admin:${SUPERADMIN.email}`);
    await s.page.getByRole('checkbox', { name: 'Accounts', exact: true }).waitFor();
    await screenshot(s.page, 'configuration');
  });

  it("shows the field mapping beside the CRM's fields, with a live preview on a sample contact", async () => {
    await s.page.goto(pageUrl(s, 'crmConfiguration', { connectionId: hubspotId }));
    await s.page.getByText('[Manage Field Mapping]').click();
    await s.page.getByText('HubSpot Field Mapping').waitFor();
    await s.page.locator('[data-testid="mapping-rows"] tr[data-local="firstName"]').waitFor();
    // The e-mail as the CRM receives it: normalised like a stored contact's.
    await s.page
      .getByTestId('preview-crm')
      .getByText(/"email": "ada\.lovelace@example\.com"/)
      .waitFor();
    await s.page.getByLabel('Sample firstName').fill('Grace');
    await s.page.getByTestId('preview-crm').getByText('"Grace"').waitFor();
  });

  it('edits a mapping with a formula and sees the preview, a bad row refused beside it, and saves it', async () => {
    const { formulaRow, version } = await editMappingWithFormula(s, hubspotId, {
      crmName: 'HubSpot',
      crmField: 'city',
      badRowCrmField: 'state',
      shot: 'field-mapping',
    });
    expect(version).toBe(2);
    const token = (await app.get(ServiceTokenService).issue('mapping-check', 'acme')).token;
    const response = await fetch(
      `${s.baseUrl}/api/v1/tenants/acme/connections/${hubspotId}/mappings?object=contacts`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    const [stored] = (await response.json()) as { version: number; fields: unknown[]; updatedBy: string }[];
    expect(stored.version).toBe(2);
    expect(stored.updatedBy).toBe(`admin:${SUPERADMIN.email}`);
    expect(stored.fields[formulaRow]).toEqual({
      crm: 'city',
      direction: 'to_crm',
      codec: 'text',
      formula: { toCrm: "firstName & ' ' & lastName" },
    });
    const audit = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'field_mapping.updated', targetId: hubspotId });
    expect(audit.actor).toBe(`admin:${SUPERADMIN.email}`);
  });

  it('chooses the matching key, a field that cannot hold one refused beside it, saved and audited', async () => {
    const key = { local: 'customFields.memberId', crm: 'zip' };
    const version = await chooseMatchingKey(s, hubspotId, {
      crmName: 'HubSpot',
      refusedCrmField: 'lifecyclestage',
      key,
    });
    expect(version).toBe(3);
    const token = (await app.get(ServiceTokenService).issue('key-check', 'acme')).token;
    const stored = async () => {
      const response = await fetch(
        `${s.baseUrl}/api/v1/tenants/acme/connections/${hubspotId}/mappings?object=contacts`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      return ((await response.json()) as { matchField: string; matchLocalField: string }[])[0];
    };
    expect(await stored()).toMatchObject({ matchField: 'zip', matchLocalField: 'customFields.memberId' });
    const audit = await orm.em
      .fork()
      .findOneOrFail(
        AuditLogEntry,
        { action: 'field_mapping.updated', targetId: hubspotId },
        { orderBy: { id: 'desc' } },
      );
    expect(audit.after).toMatchObject({ impact: { changedFields: ['matchField'] } });
    // Back to the e-mail, so the rest of the flow syncs as the demo does.
    await s.page.getByTestId('matching-key').getByLabel('Matching key PenguinMails field').fill('email');
    await s.page.getByTestId('matching-key').getByLabel('Matching key HubSpot field').selectOption('email');
    await s.page.getByTestId('save-mapping').click();
    await s.page.getByText('Mapping saved (version 4).').waitFor();
    expect(await stored()).toMatchObject({ matchField: 'email', matchLocalField: 'email' });
  });

  it('syncs now and shows today’s counts, the log with arrows and the run’s counts as a table', async () => {
    const { contactsSynced } = await syncNow(s, hubspotId);
    expect(contactsSynced).toBeGreaterThan(0);
    const requested = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'connection.sync_requested', targetId: hubspotId });
    expect(requested.actor).toBe(`admin:${SUPERADMIN.email}`);
    await s.page.locator('[data-testid="run-counts"]').first().waitFor();
    // The scheduler may have run first after connecting: whichever run pushed Ada, the full log has her line. The
    // demo's contacts were pushed with her (the formula saved above changed every one), so it may be on a later page.
    await s.page.getByTestId('view-full-log').click();
    const fullLog = s.page.getByTestId('full-log');
    const paging = s.page.getByTestId('log-paging');
    await fullLog.locator('select[name="connectionId"]').selectOption(hubspotId);
    await fullLog.locator('select[name="direction"]').selectOption('to_crm');
    const pushed = await orm.em.fork().count(SyncLogEntry, { connection: hubspotId, direction: 'to_crm' });
    const pages = Math.ceil(pushed / 20);
    await paging.getByText(`Page 1 of ${pages} · ${pushed} lines`).waitFor();
    const adaLine = fullLog.getByText('Contact synced: ada@acme.example → HubSpot');
    for (let page = 2; !(await adaLine.isVisible()); page++) {
      expect(page).toBeLessThanOrEqual(pages);
      await paging.getByRole('button', { name: 'Next' }).click();
      await paging.getByText(`Page ${page} of ${pages} · ${pushed} lines`).waitFor();
    }
    await fullLog.locator('select[name="direction"]').selectOption('from_crm');
    await fullLog.locator('li').filter({ hasText: '← HubSpot' }).first().waitFor();
    await s.page
      .getByTestId('log-paging')
      .getByText(/Page 1 of \d+/)
      .waitFor();
    const arrows = await s.page.getByTestId('full-log').locator('li span[title]').allInnerTexts();
    expect(arrows.length).toBeGreaterThan(0);
    expect(new Set(arrows)).toEqual(new Set(['←']));
    await screenshot(s.page, 'sync-activity');
    await s.page.goto(`${s.baseUrl}/admin`);
    await s.page
      .locator('[data-connection="hubspot"]')
      .getByText(/just now|minute/)
      .waitFor();
    await screenshot(s.page, 'home');
  });

  it('turns real-time on from the Configuration page and shows the measured lag on Sync Activity', async () => {
    const em = orm.em.fork();
    const now = Date.now();
    // Three applied change events of beta's connection: lags 400, 800 and 1,200 ms (p50 800, p95 1,160).
    for (const [index, lagMs] of [400, 800, 1200].entries()) {
      em.create(ChangeHintRecord, {
        connection: em.getReference(CrmConnection, betaConnectionId),
        object: 'Contact',
        crmId: `003-${index}`,
        action: 'updated',
        occurredAt: new Date(now - lagMs),
        appliedAt: new Date(now),
        lagMs,
        outcome: 'present',
      });
    }
    await em.flush();

    await s.page.goto(pageUrl(s, 'crmConfiguration', { connectionId: hubspotId }));
    const realtime = s.page.getByRole('checkbox', { name: /Sync changes within a minute/ });
    expect(await realtime.isChecked()).toBe(false);
    await realtime.check();
    await s.page.getByTestId('save-settings').click();
    await s.page.getByText('Settings saved.').waitFor();
    expect((await orm.em.fork().findOneOrFail(CrmConnection, hubspotId)).settings.realtime).toBe(true);

    const figure = (name: string) => s.page.locator(`[data-realtime="${name}"] strong`).innerText();
    await s.page.goto(pageUrl(s, 'crmSyncActivity', { connectionId: hubspotId }));
    await s.page.getByTestId('realtime').waitFor();
    expect(await figure('enabled')).toBe('on');
    await s.page.goto(pageUrl(s, 'crmSyncActivity', { connectionId: betaConnectionId }));
    await s.page.getByTestId('realtime').waitFor();
    expect([
      await figure('enabled'),
      await figure('lagP50Ms'),
      await figure('lagP95Ms'),
      await figure('eventsLastHour'),
    ]).toEqual(['off', '800 ms', '1.2 s', '3']);
  });

  it("shows the latest reconcile's drift by kind on Sync Activity and reconciles now, audited", async () => {
    const em = orm.em.fork();
    const finishedAt = new Date();
    const drift = { crmRecords: 60, localContacts: 67, missingInCrm: 7, changedInCrm: 2, notInCrm: 3 };
    em.create(SyncRun, {
      tenant: em.getReference(Tenant, 'acme'),
      connection: em.getReference(CrmConnection, hubspotId),
      trigger: 'reconcile',
      status: 'succeeded',
      queuedAt: finishedAt,
      startedAt: finishedAt,
      finishedAt,
      drift: { contacts: { ...drift, changedLocally: 1, notInPenguinMails: 4 } },
    });
    await em.flush();
    await s.page.goto(pageUrl(s, 'crmSyncActivity', { connectionId: hubspotId }));
    const row = s.page.locator('[data-testid="reconcile-drift"] tr[data-drift-object="contacts"]');
    await row.waitFor();
    const kinds = ['missingInCrm', 'changedInCrm', 'notInCrm', 'changedLocally', 'notInPenguinMails'];
    const shown = await Promise.all(kinds.map((kind) => row.locator(`[data-drift="${kind}"]`).innerText()));
    expect(shown).toEqual(['7', '2', '3', '1', '4']);
    expect(await s.page.locator('[data-reconcile-at]').getAttribute('data-reconcile-at')).toBe(
      finishedAt.toISOString(),
    );
    await s.page.getByTestId('reconcile-now').click();
    await s.page.getByText(/Reconcile queued\.|A reconcile is already waiting\./).waitFor();
    const requested = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'connection.reconcile_requested', targetId: hubspotId });
    expect(requested.actor).toBe(`admin:${SUPERADMIN.email}`);
    const runId = (requested.after as { runId: string }).runId;
    expect(await orm.em.fork().findOneOrFail(SyncRun, runId)).toMatchObject({ trigger: 'reconcile' });
  });

  it("pages the full log by the API's cursor: next and back again, every line once", async () => {
    const em = orm.em.fork();
    const start = Date.parse('2026-12-01T08:00:00Z');
    for (let index = 0; index < 24; index++) {
      em.create(SyncLogEntry, {
        tenant: em.getReference(Tenant, 'beta'),
        connection: em.getReference(CrmConnection, betaConnectionId),
        at: new Date(start + index * 60_000),
        direction: 'from_crm',
        object: 'Contact',
        recordKey: `paged-${index}@beta.example`,
        action: 'updated',
        message: `Paged line ${String(index).padStart(2, '0')}`,
      });
    }
    await em.flush();
    await s.page.goto(pageUrl(s, 'crmSyncActivity'));
    await s.page.getByTestId('view-full-log').click();
    const fullLog = s.page.getByTestId('full-log');
    await fullLog.locator('select[name="connectionId"]').selectOption(betaConnectionId);
    await fullLog.locator('select[name="direction"]').selectOption('from_crm');
    const paging = s.page.getByTestId('log-paging');
    await paging.getByText('Page 1 of 2 · 24 lines').waitFor();
    const messages = () => fullLog.locator('li').filter({ hasText: 'Paged line' }).allInnerTexts();
    const first = await messages();
    await paging.getByRole('button', { name: 'Next' }).click();
    await paging.getByText('Page 2 of 2 · 24 lines').waitFor();
    const second = await messages();
    expect(await paging.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    const seen = [...first, ...second].map((text) => /Paged line (\d+)/.exec(text)?.[1]);
    expect(seen).toEqual(Array.from({ length: 24 }, (_, index) => String(23 - index).padStart(2, '0')));
    await paging.getByRole('button', { name: 'Previous' }).click();
    await paging.getByText('Page 1 of 2 · 24 lines').waitFor();
    expect(await messages()).toEqual(first);
  });

  it('disconnects (revoked at the sandbox) and reconnects the same connection', async () => {
    const sandbox = runtime.crmClients.hubspot!.apiBaseUrl!;
    const revokes = async () => {
      const counters = (await (await fetch(`${sandbox}/__sandbox/counters`)).json()) as {
        byRoute: Record<string, number>;
      };
      return counters.byRoute['DELETE /oauth/v1/refresh-tokens/:token'] ?? 0;
    };
    const before = await revokes();
    await disconnectAndReconnect(s, hubspotId, 'HubSpot');
    expect(await revokes()).toBe(before + 1);
    expect(new URL(s.page.url()).searchParams.get('connectionId')).toBe(hubspotId);
    const audit = await orm.em
      .fork()
      .find(AuditLogEntry, { targetId: hubspotId }, { orderBy: { at: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['connection.disconnected', 'connection.reconnected']),
    );
  });

  it('lets a platform admin switch a CRM off for one tenant, audited, and the Connect page shows it', async () => {
    await s.page.goto(pageUrl(s, 'crmAdminControls'));
    // The switch follows the saved state, so the page answers with the notice, not with the click itself.
    await s.page.getByLabel('Pipedrive for beta').click();
    await s.page.getByText('Pipedrive disabled for beta.').waitFor();
    await screenshot(s.page, 'admin-controls');
    const audit = await orm.em.fork().findOneOrFail(AuditLogEntry, { action: 'provider.disabled' });
    expect(audit).toMatchObject({ tenantId: 'beta', actor: `admin:${SUPERADMIN.email}` });
    await s.page.goto(pageUrl(s, 'crmConnect', { tenantId: 'beta' }));
    await s.page.locator('[data-crm="pipedrive"] [data-badge="disabled"]').waitFor();
    expect(await s.page.getByTestId('connect-pipedrive').isDisabled()).toBe(true);
    await s.page.goto(`${s.baseUrl}/admin/resources/CrmConnection`);
    await s.page.locator('[data-badge="connected"]').first().waitFor();
    await screenshot(s.page, 'connections');
    const run = await orm.em
      .fork()
      .findOneOrFail(SyncRun, { connection: hubspotId, status: { $in: ['succeeded', 'partial'] } });
    await s.page.goto(`${s.baseUrl}/admin/resources/CrmSyncRun/records/${run.id}/show`);
    await s.page.locator('[data-testid="run-counts"]').getByText('← from the CRM').first().waitFor();
    await s.page.locator(`[data-badge="${run.status}"]`).first().waitFor();
  });

  it('shows a company mapping section when the settings sync Accounts: company fields, preview and save', async () => {
    const em = orm.em.fork();
    const salesforce = await em.findOneOrFail(CrmConnection, salesforceId);
    salesforce.settings = { ...salesforce.settings, objects: ['Contact', 'Account'] };
    await em.flush();
    await s.page.goto(pageUrl(s, 'crmFieldMapping', { connectionId: salesforceId }));
    await s.page.locator('select[name="object"]').selectOption({ label: 'Account (companies)' });
    const rows = s.page.locator('[data-testid="mapping-rows"][data-subject="company"]');
    await rows.locator('tr[data-local="name"]').waitFor();
    const offered = await s.page
      .locator('#pm-local-fields option')
      .evaluateAll((options) => options.map((option) => (option as unknown as { value: string }).value));
    expect(offered).toEqual(expect.arrayContaining(['name', 'domain']));
    expect(offered).not.toContain('firstName');
    await s.page.getByText('Preview on a sample company').waitFor();
    await s.page.getByLabel('Sample name').fill('Babbage & Co');
    await s.page.getByTestId('preview-crm').getByText('"Name": "Babbage & Co"').waitFor();
    const nameRow = await rows.locator('tr[data-local="name"]').getAttribute('data-row');
    const local = s.page.getByLabel(`PenguinMails field of row ${nameRow}`);
    await local.fill('firstName');
    await s.page
      .locator(`[data-error-for-row="${nameRow}"]`)
      .getByText(/not a PenguinMails company field/)
      .waitFor();
    await local.fill('name');
    // A company row computed by a formula over the sample company, previewed beside the row and saved.
    const formulaRow = await rows.locator('tbody tr').count();
    await s.page.getByTestId('add-mapping-row').click();
    const formula = s.page.getByLabel(`To-CRM formula of row ${formulaRow}`);
    expect(await formula.getAttribute('placeholder')).toBe('→ formula over the company');
    await formula.fill("$uppercase(name) & ' (' & domain & ')'");
    await s.page.getByLabel(`Salesforce field of row ${formulaRow}`).selectOption('Description');
    await s.page.getByLabel(`Direction of row ${formulaRow}`).selectOption('to_crm');
    await s.page.getByLabel('Sample domain').fill('babbage.example');
    await s.page
      .getByTestId(`row-preview-${formulaRow}`)
      .getByText('"BABBAGE & CO (babbage.example)"')
      .waitFor();
    await s.page
      .getByTestId('preview-crm')
      .getByText('"Description": "BABBAGE & CO (babbage.example)"')
      .waitFor();
    await s.page.getByTestId('save-mapping').click();
    await s.page.getByText(/Mapping saved \(version \d+\)\./).waitFor();
    const audit = await orm.em
      .fork()
      .findOneOrFail(AuditLogEntry, { action: 'field_mapping.updated', targetId: salesforceId });
    expect(audit.after).toMatchObject({ object: 'Account' });
    const stored = await orm.em
      .fork()
      .findOneOrFail(FieldMappingConfig, { connection: salesforceId, object: 'Account' });
    expect(stored.mapping.fields[formulaRow]).toMatchObject({
      crm: 'Description',
      direction: 'to_crm',
      formula: { toCrm: "$uppercase(name) & ' (' & domain & ')'" },
    });
    expect(stored.mapping.fields[formulaRow]).not.toHaveProperty('local');
  });

  describe('a viewer', () => {
    let viewer: Screens;
    beforeAll(async () => {
      const page = await (await browser.newContext()).newPage();
      viewer = { ...s, page };
      await logIn(page, s.baseUrl, '/admin', VIEWER);
      await page.getByTestId('crm-home').waitFor();
    });
    afterAll(() => viewer.page.context().close());

    it('sees the settings but is refused every change', async () => {
      await viewer.page.goto(pageUrl(viewer, 'crmConfiguration', { connectionId: salesforceId }));
      await viewer.page.getByText('You can look at these settings but not change them.').waitFor();
      expect(await viewer.page.getByTestId('save-settings').count()).toBe(0);
      const headers = await csrfHeader(viewer.page, s.baseUrl);
      const refused = await pageApi(viewer, 'crmConfiguration', {
        op: 'save',
        body: { connectionId: salesforceId, settings: { frequency: 'daily' } },
        headers,
      });
      expect(refused.error).toBe('A viewer cannot change anything');
      const syncRefused = await pageApi(viewer, 'crmSyncActivity', {
        op: 'syncNow',
        body: { connectionId: salesforceId },
        headers,
      });
      expect(syncRefused.error).toBe('A viewer cannot change anything');
      const reconcileRefused = await pageApi(viewer, 'crmSyncActivity', {
        op: 'reconcileNow',
        body: { connectionId: salesforceId },
        headers,
      });
      expect(reconcileRefused.error).toBe('A viewer cannot change anything');
      const edit = await viewer.page.request.post(
        `${s.baseUrl}/admin/api/resources/CrmConnection/records/${salesforceId}/edit`,
        { multipart: { label: 'Viewer was here' }, headers },
      );
      expect(((await edit.json()) as { notice?: { type: string } }).notice?.type).toBe('error');
      const connection = await orm.em.fork().findOneOrFail(CrmConnection, salesforceId);
      expect(connection.settings.frequency).toBe('hourly');
      expect(connection.label).not.toBe('Viewer was here');
    });

    it('sees the field mapping but cannot change or save it', async () => {
      await viewer.page.goto(pageUrl(viewer, 'crmFieldMapping', { connectionId: hubspotId }));
      await viewer.page.getByText('You can look at this mapping but not change it.').waitFor();
      await viewer.page.locator('[data-testid="mapping-rows"] tr[data-local="firstName"]').waitFor();
      expect(await viewer.page.getByTestId('save-mapping').count()).toBe(0);
      expect(
        await viewer.page
          .locator('[data-testid="mapping-rows"] select, [data-testid="mapping-rows"] input')
          .count(),
      ).toBe(0);
      const refused = await pageApi(viewer, 'crmFieldMapping', {
        op: 'save',
        body: { connectionId: hubspotId, object: 'contacts', rows: [] },
        headers: await csrfHeader(viewer.page, s.baseUrl),
      });
      expect(refused.error).toBe('A viewer cannot change anything');
      // The matching key is shown, not offered for change.
      await viewer.page.getByTestId('matching-key').getByText('email ⇄ email').waitFor();
      expect(await viewer.page.getByTestId('matching-key').locator('select, input').count()).toBe(0);
      const audits = await orm.em
        .fork()
        .count(AuditLogEntry, { action: 'field_mapping.updated', targetId: hubspotId });
      // The admin's saves: the formula, the matching key and back to the e-mail; none by the viewer.
      expect(audits).toBe(3);
    });
  });

  describe('a tenant admin', () => {
    let admin: Screens;
    beforeAll(async () => {
      const page = await (await browser.newContext()).newPage();
      admin = { ...s, page };
      await logIn(page, s.baseUrl, '/admin', TENANT_ADMIN);
      await page.getByTestId('crm-home').waitFor();
    });
    afterAll(() => admin.page.context().close());

    it("never sees another tenant's connections, counts or log", async () => {
      await admin.page.getByText('Acme Inc (acme)').waitFor();
      for (const [url, loaded] of [
        [`${s.baseUrl}/admin`, 'Acme Inc (acme)'],
        [pageUrl(admin, 'crmSyncActivity'), "Today's Activity"],
        [pageUrl(admin, 'crmAdminControls'), 'Errors across tenants'],
        [pageUrl(admin, 'crmConnect'), 'Coming Soon'],
      ]) {
        await admin.page.goto(url);
        await admin.page.getByText(loaded).first().waitFor();
        const html = await admin.page.content();
        expect(html).not.toContain('Beta GmbH');
        expect(html).not.toContain('beta-only@beta.example');
        expect(html).not.toContain('Beta Org');
      }
      const other = await pageApi(admin, 'crmSyncActivity', { query: { tenantId: 'beta' } });
      expect(other.error).toBe('That tenant is outside your access');
      const foreign = await pageApi(admin, 'crmConfiguration', { query: { connectionId: betaConnectionId } });
      expect(foreign.error).toBe('This connection does not exist or is outside your tenant');
      const log = await pageApi(admin, 'crmSyncActivity', {
        op: 'log',
        body: { connectionId: betaConnectionId },
        headers: await csrfHeader(admin.page, s.baseUrl),
      });
      expect(JSON.stringify(log)).not.toContain('beta-only@beta.example');
    });
  });
});
