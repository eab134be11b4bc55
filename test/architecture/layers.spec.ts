import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The layer rules live in .dependency-cruiser.js; this keeps them enforced by `npm test`, not only by lint.
// dependency-cruiser is ESM-only, so it runs as its own process and reports JSON.
describe('architecture', () => {
  it('keeps every import inside the layer rules', () => {
    const root = join(__dirname, '..', '..');
    const run = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
        'src',
        'libs',
        'test',
        '--config',
        '.dependency-cruiser.js',
        '--output-type',
        'json',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    if (!run.stdout.trim().startsWith('{'))
      throw new Error(`dependency-cruiser failed: ${run.stderr || run.stdout}`);
    const report = JSON.parse(run.stdout) as {
      summary: { totalCruised: number; violations: { rule: { name: string }; from: string; to: string }[] };
    };
    const violations = report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(violations).toEqual([]);
    expect(report.summary.totalCruised).toBeGreaterThan(50);
  });
});
