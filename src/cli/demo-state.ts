// Demo sandboxes that survive a restart of the service. A sandbox keeps its data in memory, so its state is written
// under DATA_DIR/demo/<crm> as it changes: every successful API request that changed data is appended to a
// journal (one JSON line, written as the answer goes out, so a `kill -9` loses nothing that was answered), and
// the OAuth grants are saved whole after each change. On the next start the sandbox is created again with the
// same seed (the same demo data), its grants restored, and the journal replayed in order against it, which gives
// the same records with the same ids. The port is remembered too, so saved tokens and URLs stay valid.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import type { OAuthSnapshot, SandboxServer } from '@pm/sandboxes';

interface JournalEntry {
  method: string;
  url: string;
  contentType?: string;
  body?: unknown;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** POSTs that only read (HubSpot search and batch read, Salesforce's composite retrieve): nothing to replay. */
const READ_ONLY_POST = /\/(search|batch\/read)$|\/composite\/sobjects\/[^/]+$/;

export const demoStateDir = (dataDir: string) => join(dataDir, 'demo');
const crmDir = (dataDir: string, crm: string) => join(demoStateDir(dataDir), crm);
const journalFile = (dataDir: string, crm: string) => join(crmDir(dataDir, crm), 'journal.jsonl');
const oauthFile = (dataDir: string, crm: string) => join(crmDir(dataDir, crm), 'oauth.json');
const portsFile = (dataDir: string) => join(demoStateDir(dataDir), 'ports.json');

function writeAtomically(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

export function rememberedPorts(dataDir: string): Record<string, number> {
  const file = portsFile(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};
}

export function rememberPorts(dataDir: string, ports: Record<string, number>): void {
  mkdirSync(demoStateDir(dataDir), { recursive: true });
  writeAtomically(portsFile(dataDir), JSON.stringify(ports));
}

function readJournal(dataDir: string, crm: string): JournalEntry[] {
  const file = journalFile(dataDir, crm);
  if (!existsSync(file)) return [];
  // A line cut short by a crash mid-write is the only one that may not parse: it was never answered.
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as JournalEntry];
      } catch {
        return [];
      }
    });
}

/** Requests that change grants rather than data: their effect is in the OAuth snapshot, not replayed. */
function isOAuthRoute(server: SandboxServer, path: string): boolean {
  const { authorizePath, tokenPath, revokePath } = server.oauth.config;
  return [authorizePath, tokenPath, revokePath].includes(path) || path.includes('/oauth/');
}

/** Replays the journal with a grant made for the replay; answers how many requests replayed and failed. */
async function replay(
  server: SandboxServer,
  entries: JournalEntry[],
): Promise<{ replayed: number; failed: number }> {
  const grant = server.oauth.issueTokensDirectly();
  let failed = 0;
  for (const entry of entries) {
    const form = entry.contentType?.includes('x-www-form-urlencoded');
    const body =
      entry.body === undefined || typeof entry.body === 'string'
        ? entry.body
        : form
          ? new URLSearchParams(entry.body as Record<string, string>).toString()
          : JSON.stringify(entry.body);
    const response = await fetch(`${server.baseUrl}${entry.url}`, {
      method: entry.method,
      headers: {
        Authorization: `Bearer ${grant.accessToken}`,
        ...(entry.contentType ? { 'Content-Type': entry.contentType } : {}),
      },
      body,
    }).catch(() => undefined);
    if (!response?.ok) failed++;
    await response?.arrayBuffer().catch(() => undefined);
  }
  server.oauth.revokeToken(grant.refreshToken);
  server.counters.reset();
  return { replayed: entries.length - failed, failed };
}

/**
 * Restores a sandbox made with the same seed from DATA_DIR (grants before it listens, then the journal once it
 * does) and records from then on. Call before `server.start()`; call the returned `afterStart` right after it.
 */
export function persistSandbox(
  server: SandboxServer,
  dataDir: string,
  crm: string,
): { afterStart(): Promise<{ replayed: number; failed: number }> } {
  mkdirSync(crmDir(dataDir, crm), { recursive: true });
  if (existsSync(oauthFile(dataDir, crm))) {
    server.oauth.restore(JSON.parse(readFileSync(oauthFile(dataDir, crm), 'utf8')) as OAuthSnapshot);
  }
  let recording = false;
  const app = server.app as unknown as { handle(req: Request, res: Response, next?: unknown): void };
  const handle = app.handle.bind(app);
  app.handle = (req, res, next) => {
    if (recording && MUTATING.has(req.method)) {
      // The body parsers fill req.body on the way in; by 'finish' the answer is known.
      res.once('finish', () => {
        if (res.statusCode >= 400) return;
        const path = req.path;
        writeAtomically(oauthFile(dataDir, crm), JSON.stringify(server.oauth.snapshot()));
        if (isOAuthRoute(server, path)) return;
        if (path.startsWith('/__sandbox') && path !== '/__sandbox/seed') return;
        if (req.method === 'POST' && READ_ONLY_POST.test(path)) return;
        const entry: JournalEntry = {
          method: req.method,
          url: req.originalUrl,
          contentType: req.headers['content-type'],
          body: req.body as unknown,
        };
        appendFileSync(journalFile(dataDir, crm), `${JSON.stringify(entry)}\n`);
      });
    }
    handle(req, res, next);
  };
  return {
    afterStart: async () => {
      const result = await replay(server, readJournal(dataDir, crm));
      recording = true;
      return result;
    },
  };
}

/** Removes the saved demo state; answers one phrase per CRM saying what went (for `npm run demo:reset`). */
export function removeDemoState(dataDir: string): string[] {
  const dir = demoStateDir(dataDir);
  if (!existsSync(dir)) return [];
  const removed = ['salesforce', 'hubspot', 'pipedrive']
    .filter((crm) => existsSync(crmDir(dataDir, crm)))
    .map((crm) => {
      const changes = readJournal(dataDir, crm).length;
      const grants = existsSync(oauthFile(dataDir, crm))
        ? (JSON.parse(readFileSync(oauthFile(dataDir, crm), 'utf8')) as OAuthSnapshot).refreshTokens.length
        : 0;
      return `${crm}: ${changes} saved change(s), ${grants} OAuth grant(s)`;
    });
  rmSync(dir, { recursive: true, force: true });
  return removed;
}
