import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/standalone/config/env.schema';
import { ensureReachable } from '../../src/standalone/database/postgres-user';

/**
 * Run as root, the embedded PostgreSQL runs as the `postgres` user. A checkout or DATA_DIR under a folder that
 * user cannot enter (a 0700 home, a `mktemp -d` folder) is one line naming the folder and the fix, not initdb's
 * raw EACCES; DATA_DIR itself is ours and is opened for it.
 */
const POSTGRES_USER = { uid: 4_000_001, gid: 4_000_001, groups: [4_000_001] };

describe('the postgres user reaching the embedded cluster', () => {
  const root = mkdtempSync(join(tmpdir(), 'pmcrm-reach-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('names the closed folder above the binaries and the fix in one line', () => {
    const home = join(root, 'home');
    mkdirSync(join(home, 'checkout', 'bin'), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(home, 0o700);
    const dataDir = join(root, 'open-data');
    let error: unknown;
    try {
      ensureReachable(POSTGRES_USER, join(home, 'checkout', 'bin'), dataDir, join(dataDir, 'postgres'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`cannot enter ${home} (mode 0700)`);
    expect(message).toMatch(/run as a normal user, or set DATABASE_URL/);
  });

  it('opens DATA_DIR itself for it, and names a closed folder above DATA_DIR', () => {
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    const dataDir = mkdtempSync(join(root, 'data-'));
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    ensureReachable(POSTGRES_USER, bin, dataDir, join(dataDir, 'postgres'));
    expect(statSync(dataDir).mode & 0o011).toBe(0o011);

    const closed = join(root, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const inside = join(closed, 'data');
    expect(() => ensureReachable(POSTGRES_USER, bin, inside, join(inside, 'postgres'))).toThrow(
      `cannot enter ${closed} (mode 0700); set DATA_DIR to a folder it can reach`,
    );
  });
});
