import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Secret hygiene for the whole test run: every secret the suite creates (sandbox tokens, codes and client
 * secrets, platform tokens, sealed credentials) is written to `secrets-*.txt` in the run's folder, every log line
 * of every test app to `*.log` there; global teardown looks for each secret in each line.
 */
export const RUN_DIR_VARIABLE = 'PM_TEST_RUN_DIR';

/** Shorter values (an id, a port) would match by chance; every secret the suite creates is longer. */
const MIN_SECRET_LENGTH = 16;

/** Notes a secret the suite created, for the scan at the end of the run (no-op outside a Jest run). */
export function recordSecret(secret: string | undefined | null): void {
  const dir = process.env[RUN_DIR_VARIABLE];
  if (!dir || !secret || secret.length < MIN_SECRET_LENGTH) return;
  appendFileSync(join(dir, `secrets-${process.pid}.txt`), `${secret.replace(/\n/g, ' ')}\n`);
}

export interface SecretFinding {
  file: string;
  line: number;
  /** The first characters of the secret only, so the report does not spread it further. */
  secretStart: string;
}

export interface ScanResult {
  files: number;
  lines: number;
  secrets: number;
  findings: SecretFinding[];
}

/** Looks for every recorded secret in every log line of the run's folder. */
export function scanRunForSecrets(dir: string): ScanResult {
  const result: ScanResult = { files: 0, lines: 0, secrets: 0, findings: [] };
  if (!existsSync(dir)) return result;
  const names = readdirSync(dir);
  const secrets = new Set<string>();
  for (const name of names.filter((n) => n.startsWith('secrets-')))
    for (const secret of readFileSync(join(dir, name), 'utf8').split('\n'))
      if (secret.length >= MIN_SECRET_LENGTH) secrets.add(secret);
  result.secrets = secrets.size;
  for (const name of names.filter((n) => n.endsWith('.log'))) {
    result.files++;
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    result.lines += lines.length;
    lines.forEach((text, index) => {
      for (const secret of secrets)
        if (text.includes(secret))
          result.findings.push({ file: name, line: index + 1, secretStart: `${secret.slice(0, 6)}…` });
    });
  }
  return result;
}
