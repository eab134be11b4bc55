import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanRunForSecrets } from '../support/secret-scan';

/** The scan that ends every test run (global-teardown.ts) finds a recorded secret in a log line and says where. */
describe('the secret scan over the run’s log lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-secret-scan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file and line of each secret it finds, and only those', () => {
    const secret = 'sbx-at-Qm9vYmFyYmF6cXV4cXV1eA';
    writeFileSync(join(dir, 'secrets-1.txt'), `${secret}\nshort\n`);
    writeFileSync(join(dir, 'app-1.log'), '{"msg":"started"}\n{"msg":"refreshed"}\n');
    writeFileSync(join(dir, 'app-2.log'), `{"msg":"ok"}\n{"msg":"token ${secret} refused"}\n`);
    const result = scanRunForSecrets(dir);
    expect(result).toMatchObject({ files: 2, secrets: 1 });
    expect(result.findings).toEqual([{ file: 'app-2.log', line: 2, secretStart: 'sbx-at…' }]);
  });
});
