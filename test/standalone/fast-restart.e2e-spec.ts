import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/standalone/embedded-postgres';

/**
 * `npm start` on an unchanged checkout runs no TypeScript rebuild: the incremental build (tsc -b with
 * dist/build.tsbuildinfo) finds nothing newer than its last run and writes nothing, so the start is the
 * service's own start. Checked on what the build would touch (every file in dist), not on a time.
 */
const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');

function modificationTimes(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    times.set(file, statSync(file).mtimeMs);
  }
  return times;
}

describe('npm start on an unchanged checkout', () => {
  it('starts the built service without rebuilding it', async () => {
    expect(existsSync(join(DIST, 'build.tsbuildinfo'))).toBe(true);
    const before = modificationTimes(DIST);
    // Its own process group, so the whole `npm start` (npm, shell, node) stops together.
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-fast-')),
        PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
        DEMO_SANDBOXES: 'off',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // npm exits at once on SIGTERM; the service it started holds the pipe until its own shutdown is done.
    const outputClosed = new Promise((resolve) => child.stdout.once('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => /listening on http/.test(output) && resolve());
        void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await Promise.all([exited, outputClosed]);
    }
    const after = modificationTimes(DIST);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const rewritten = [...after].filter(([file, time]) => before.get(file) !== time).map(([file]) => file);
    expect(rewritten).toEqual([]);
  }, 180_000);
});
