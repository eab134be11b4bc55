import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/**
 * The steps a person takes through the CRM screens, shared by the standalone and host-app browser tests: each
 * starts from a screen of the plugin and waits for what the screen says, never for a time.
 */
export interface Screens {
  page: Page;
  baseUrl: string;
  rootPath: string;
}

/** Where the tests leave the screenshots the README shows. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'docs', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // AdminJS scrolls inside its own layout, so a full-page shot would miss the top: a tall viewport instead.
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** A free local port, so the public URL (OAuth callbacks) can name the port before the app listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const pageUrl = (s: Screens, name: string, query: Record<string, string> = {}) =>
  `${s.baseUrl}${s.rootPath}/pages/${name}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;

/**
 * Connect from the Connect page: the card's Connect button, the CRM sandbox's consent page (Allow), and back on the
 * Configuration page, connected. Returns the connection id the page came back with.
 */
export async function connectFromConnectPage(
  s: Screens,
  input: { tenantId: string; provider: string; crmName: string; consentShot?: string },
): Promise<string> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmConnect', { tenantId: input.tenantId }));
  await page.getByTestId(`connect-${input.provider}`).click();
  await page.locator('#allow').waitFor();
  if (input.consentShot) await screenshot(page, input.consentShot);
  await page.locator('#allow').click();
  await page.waitForURL(/\/pages\/crmConfiguration\?connectionId=.*status=connected/);
  await page.getByText(`${input.crmName} Configuration`).waitFor();
  await page.getByText(`Connected to ${input.crmName}.`).waitFor();
  return new URL(page.url()).searchParams.get('connectionId') ?? '';
}

/** Save Settings with nothing to sync: the error stands beside "Objects to Sync"; then a valid change saves. */
export async function changeSettings(s: Screens, connectionId: string, objects: string[]): Promise<void> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmConfiguration', { connectionId }));
  await page.getByTestId('save-settings').waitFor();
  for (const object of objects) await page.getByRole('checkbox', { name: object, exact: true }).uncheck();
  await page.getByTestId('save-settings').click();
  await page
    .locator('fieldset[data-field="objects"] [data-error-for="objects"]')
    .getByText('Choose at least one object to sync')
    .waitFor();
  await page.getByRole('checkbox', { name: objects[0], exact: true }).check();
  await page.getByRole('radio', { name: 'Most recent wins' }).check();
  await page.getByLabel('Sync Frequency').selectOption('hourly');
  await page.getByTestId('save-settings').click();
  await page.getByText('Settings saved.').waitFor();
}

/** Sync Now on the Sync Activity page; waits until the page says the run finished and shows counts and lines. */
export async function syncNow(s: Screens, connectionId: string): Promise<{ contactsSynced: number }> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmSyncActivity', { connectionId }));
  await page.getByTestId('sync-now').click();
  await page.getByText(/^Sync (succeeded|partial)\.$/).waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="log-lines"] li').first().waitFor();
  const text = await page.locator('[data-count="contactsSynced"] strong').innerText();
  return { contactsSynced: Number(text) };
}

/** Disconnect on the Configuration page (accepting the browser's confirm), then Reconnect through the consent page. */
export async function disconnectAndReconnect(
  s: Screens,
  connectionId: string,
  crmName: string,
): Promise<void> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmConfiguration', { connectionId }));
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId('disconnect').click();
  await page.getByText(`Disconnected from ${crmName}: the token was revoked at the CRM.`).waitFor();
  await page.locator('[data-badge="disconnected"]').first().waitFor();
  await page.getByTestId('reconnect').click();
  await page.locator('#allow').click();
  await page.waitForURL(/status=connected/);
  await page.getByText(`Connected to ${crmName}.`).waitFor();
}

/**
 * On the Field mapping page: a new row whose toCrm formula joins the names into `crmField`, its preview on the
 * sample contact (Ada Lovelace), a bad row whose error stands beside it and keeps the mapping from saving, then the
 * bad row removed and the mapping saved. Returns the formula row's index (its `fields[N]` in the saved mapping).
 */
export async function editMappingWithFormula(
  s: Screens,
  connectionId: string,
  input: { crmName: string; crmField: string; badRowCrmField: string; shot?: string },
): Promise<{ formulaRow: number; version: number }> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmFieldMapping', { connectionId }));
  await page.getByText(`${input.crmName} Field Mapping`).waitFor();
  const rows = page.locator('[data-testid="mapping-rows"] tbody tr');
  await rows.first().waitFor();
  const formulaRow = await rows.count();
  await page.getByTestId('add-mapping-row').click();
  await page.getByLabel(`To-CRM formula of row ${formulaRow}`).fill("firstName & ' ' & lastName");
  await page.getByLabel(`${input.crmName} field of row ${formulaRow}`).selectOption(input.crmField);
  await page.getByTestId(`row-preview-${formulaRow}`).getByText('"Ada Lovelace"').waitFor();
  await page.getByTestId('preview-crm').getByText(`"${input.crmField}": "Ada Lovelace"`).waitFor();

  const badRow = formulaRow + 1;
  await page.getByTestId('add-mapping-row').click();
  await page.getByLabel(`PenguinMails field of row ${badRow}`).fill('customFields.no spaces');
  await page.getByLabel(`${input.crmName} field of row ${badRow}`).selectOption(input.badRowCrmField);
  const badRowError = page.locator(`[data-error-for-row="${badRow}"]`);
  await badRowError.getByText('is not a PenguinMails contact field').waitFor();
  if (input.shot) await screenshot(page, input.shot);
  await page.getByTestId('save-mapping').click();
  await page.getByText('The mapping was not saved: see the errors beside the rows.').waitFor();
  await badRowError.getByText('is not a PenguinMails contact field').waitFor();

  await page.getByLabel(`Remove row ${badRow}`).click();
  await page.getByTestId('save-mapping').click();
  const saved = await page.getByText(/Mapping saved \(version \d+\)\./).innerText();
  return { formulaRow, version: Number(/version (\d+)/.exec(saved)?.[1]) };
}

/**
 * On the Field mapping page: a matching key the CRM field cannot hold is refused above the rows; then `key` is
 * chosen and saved. Returns the saved version.
 */
export async function chooseMatchingKey(
  s: Screens,
  connectionId: string,
  input: { crmName: string; refusedCrmField: string; key: { local: string; crm: string } },
): Promise<number> {
  const { page } = s;
  await page.goto(pageUrl(s, 'crmFieldMapping', { connectionId }));
  const keyBox = page.getByTestId('matching-key');
  const local = keyBox.getByLabel('Matching key PenguinMails field');
  const crm = keyBox.getByLabel(`Matching key ${input.crmName} field`);
  await local.waitFor();
  await crm.selectOption(input.refusedCrmField);
  await page
    .locator('[data-error-for-row="-1"]')
    .getByText(`matchField: "${input.refusedCrmField}" is a`)
    .waitFor();
  await local.fill(input.key.local);
  await crm.selectOption(input.key.crm);
  await page.locator('[data-error-for-row="-1"]').waitFor({ state: 'detached' });
  await page.getByTestId('save-mapping').click();
  const saved = await page.getByText(/Mapping saved \(version \d+\)\./).innerText();
  return Number(/version (\d+)/.exec(saved)?.[1]);
}

/** The answer of a page's handler (GET: read it; with `op`: a POST of that operation). */
export async function pageApi(
  s: Screens,
  name: string,
  input: { query?: Record<string, string>; op?: string; body?: unknown; headers?: Record<string, string> },
): Promise<{ data?: unknown; error?: string }> {
  const url = `${s.baseUrl}${s.rootPath}/api/pages/${name}`;
  const response = input.op
    ? await s.page.request.post(url, {
        multipart: { op: input.op, body: JSON.stringify(input.body ?? {}) },
        headers: input.headers,
      })
    : await s.page.request.get(`${url}?${new URLSearchParams(input.query ?? {})}`);
  return (await response.json()) as { data?: unknown; error?: string };
}
