import { rmSync } from 'node:fs';
import type { EmbeddedPostgresHandle } from '../../src/standalone/embedded-postgres';
import { RUN_DIR_VARIABLE, scanRunForSecrets } from './secret-scan';

/** Looks for every secret the suite created in every log line the suite wrote; fails the run with the place. */
function scanForSecrets(): void {
  const dir = process.env[RUN_DIR_VARIABLE];
  if (!dir) return;
  const result = scanRunForSecrets(dir);
  process.stdout.write(
    `\nsecret hygiene: ${result.lines} log lines in ${result.files} files scanned for ${result.secrets} secrets ` +
      `the suite created: ${result.findings.length} found\n`,
  );
  if (result.findings.length > 0) {
    // The folder stays for inspection.
    throw new Error(
      `Secrets found in log lines (folder ${dir}):\n` +
        result.findings
          .slice(0, 50)
          .map(
            (finding) => `  ${finding.file}:${finding.line} holds a secret starting ${finding.secretStart}`,
          )
          .join('\n'),
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

export default async function globalTeardown(): Promise<void> {
  scanForSecrets();
  const server = (globalThis as Record<string, unknown>).__PM_EMBEDDED_PG__ as
    | EmbeddedPostgresHandle
    | undefined;
  if (server) await server.stop();
}
