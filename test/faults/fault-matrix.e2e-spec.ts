import type { SyncRun } from '@pm/domain';
import { emailEvent } from '../../src/crm-integrations/activities/testing/activity-harness';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startCrmsUnderFault, type CrmUnderFault, type Person } from './crms-under-fault';
import { MatrixConnection, SteppingClock, startMatrixApp, type MatrixApp } from './fault-matrix-bed';
import { FAULT_CASES, FULL, SMALL, type CaseContext, type FaultCase } from './fault-matrix';

/** `npm test` runs the small size; `npm run test:faults` (FAULT_MATRIX=full) the full one. */
const SIZE = process.env.FAULT_MATRIX === 'full' ? FULL : SMALL;

/** FAULT_MATRIX_ONLY=<regex> runs only the faults it matches (to replay one row). */
const ONLY = new RegExp(process.env.FAULT_MATRIX_ONLY ?? '');

jest.setTimeout(SIZE === FULL ? 1_800_000 : 300_000);

interface Cell {
  crm: string;
  fault: string;
  pass: boolean;
  records: number;
  ms: number;
  detail: string;
}

function totals(counts: unknown, keys: string[]): number {
  if (counts === null || typeof counts !== 'object') return 0;
  let sum = 0;
  for (const [key, value] of Object.entries(counts as Record<string, unknown>)) {
    if (typeof value === 'number' && keys.includes(key)) sum += value;
    else sum += totals(value, keys);
  }
  return sum;
}

function people(tag: string, side: 'crm' | 'pm', from: number, count: number): Person[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${side}${from + i}.${tag}@matrix.example`,
    firstName: `${side === 'crm' ? 'Cora' : 'Pia'}${from + i}`,
    lastName: 'Original',
  }));
}

/**
 * One cell: a connection with people on both sides synced once; then edits and new people on both sides, the fault
 * during the next run, recovery, two more runs; then every person checked on both sides.
 */
async function runCell(
  bed: MatrixApp,
  crm: CrmUnderFault,
  fault: FaultCase,
  clock: SteppingClock,
  database: TestDatabase,
): Promise<Cell> {
  const started = Date.now();
  const tag = `${crm.provider}-${FAULT_CASES.indexOf(fault)}`.replace(/[^a-z0-9-]/gi, '');
  crm.reset();
  const connection = await MatrixConnection.connect(bed, crm, `matrix-${tag}`);
  const n = SIZE.people;
  const expected = new Map<string, string>();
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };

  // Baseline: n people in the CRM, n in PenguinMails, synced once.
  const crmFirst = people(tag, 'crm', 0, n);
  const crmIds = await crm.create(crmFirst);
  for (const person of people(tag, 'pm', 0, n)) await connection.upsertLocal(person);
  const baseline = await connection.sync();
  check(baseline.status === 'succeeded', `baseline run ${baseline.status}: ${baseline.error}`);

  // Edits on both sides and new people on both sides, then the faulted run.
  for (const [i, id] of crmIds.entries()) {
    await crm.editLastName(id, `CrmEdit${i}`);
    expected.set(crmFirst[i].email, `CrmEdit${i}`);
  }
  for (const [i, person] of people(tag, 'pm', 0, n).entries()) {
    await connection.upsertLocal({ email: person.email, lastName: `PmEdit${i}` });
    expected.set(person.email, `PmEdit${i}`);
  }
  const crmNew = people(tag, 'crm', n, n);
  await crm.create(crmNew);
  const pmNew = people(tag, 'pm', n, n);
  for (const person of pmNew) await connection.upsertLocal(person);
  for (const person of [...crmNew, ...pmNew]) expected.set(person.email, person.lastName);
  const invalid = new Set<string>();
  const batch = Math.max(1, crm.connector.capabilities().maxWriteBatch);
  for (let i = 0; i < Math.max(1, Math.ceil((2 * n) / batch)); i++) {
    const email = `invalid${i}.${tag}@matrix.example`;
    invalid.add(email);
    await connection.upsertLocal({ email, firstName: 'Ivy', lastName: 'Invalid' });
    expected.set(email, 'Invalid');
  }

  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const ctx: CaseContext = {
    crm,
    connection,
    bed,
    clock,
    size: SIZE,
    database: { serverUrl: process.env.TEST_DATABASE_URL!, name: database.name },
    invalid: fault.name === 'one invalid record per batch' ? invalid : new Set(),
    interrupted,
    interrupt,
  };
  await fault.inject(ctx);
  let faulted: SyncRun;
  try {
    faulted = fault.run ? await fault.run(ctx) : await connection.sync();
  } finally {
    bed.ports.get(crm.provider)!.disarm();
  }
  check(
    fault.outcome.includes(faulted.status),
    `faulted run ${faulted.status} (expected ${fault.outcome.join('/')}): ${faulted.error}`,
  );
  const shown = await connection.connection();
  check(shown.status === fault.status, `connection ${shown.status} (expected ${fault.status})`);
  if (fault.cause) {
    const logged = await connection.failuresLogged();
    const onRecord = [faulted.error ?? '', ...logged.map((line) => line.message)].join('\n');
    check(fault.cause.test(onRecord), `cause ${fault.cause} not on record: ${onRecord.slice(0, 300)}`);
  }
  if (faulted.status === 'partial') {
    // Every failed record is in the log by its e-mail, with the CRM's message.
    const logged = await connection.failuresLogged();
    const errors = totals(faulted.counts, ['errors']);
    check(
      logged.filter((line) => line.action === 'error').length >= errors,
      `${errors} record errors but fewer error lines: ${JSON.stringify(logged)}`,
    );
    for (const email of ctx.invalid)
      check(
        logged.some((line) => line.recordKey === email && line.action === 'error'),
        `no log line for ${email}`,
      );
  }

  if (fault.recover) await fault.recover(ctx);
  crm.faults.clear();
  const settled = await connection.run(faulted.id);
  check(
    settled.status !== 'running' && settled.status !== 'queued',
    `the faulted run was left ${settled.status}`,
  );
  if (settled.status === 'failed' || settled.status === 'cancelled')
    check(Boolean(settled.error), 'the faulted run ended without a reason');

  // The next run is clean, and the one after it has nothing left to write.
  const next = await connection.sync();
  check(next.status === 'succeeded', `next run ${next.status}: ${next.error}`);
  check(totals(next.counts, ['errors']) === 0, `next run had errors: ${JSON.stringify(next.counts)}`);
  const after = await connection.sync();
  check(after.status === 'succeeded', `run after ${after.status}: ${after.error}`);
  const writes = totals(after.counts, ['created', 'updated', 'deleted']);
  check(writes === 0, `the run after the next still wrote ${writes}: ${JSON.stringify(after.counts)}`);
  check((await connection.connection()).status === 'connected', 'not connected at the end');

  // Record by record, on both sides: exactly one, with the latest edit.
  let records = 0;
  for (const [email, lastName] of expected) {
    const local = await connection.localRows(email);
    check(local.length === 1, `${email}: ${local.length} local rows`);
    check(local[0]?.lastName === lastName, `${email}: local last name ${local[0]?.lastName} ≠ ${lastName}`);
    const remote = await connection.remoteRows(email);
    check(remote.length === 1, `${email}: ${remote.length} CRM records`);
    check(remote[0]?.lastName === lastName, `${email}: CRM last name ${remote[0]?.lastName} ≠ ${lastName}`);
    records += 2;
  }
  // Activities: an e-mail sent to each person the CRM had from the start, delivered under the same fault (the
  // faults that interrupt contact writes — PostgreSQL restarted, worker killed — are armed on those only), then
  // after recovery: each on its contact in the CRM exactly once.
  const activityEvents = crmFirst.map((person, i) =>
    emailEvent('sent', person.email, `m-${tag}-${i}`, i, { subject: `Offer ${tag} [${i}]` }),
  );
  await connection.ingest(activityEvents);
  if (!fault.run) await fault.inject(ctx);
  await connection.deliver().catch(() => undefined);
  if (!fault.run && fault.recover) await fault.recover(ctx);
  crm.faults.clear();
  for (let pass = 0; pass < 3; pass++) {
    const outcome = await connection.deliver();
    if (outcome.status === 'done' && !outcome.more) break;
  }
  const activities = crm.activities();
  for (const [i, id] of crmIds.entries()) {
    const on = activities.filter((activity) => activity.subject.includes(`Offer ${tag} [${i}]`));
    check(on.length === 1, `activity ${i}: ${on.length} CRM records`);
    check(on[0]?.contactId === id, `activity ${i}: on ${on[0]?.contactId}, not contact ${id}`);
    records++;
  }

  return {
    crm: crm.name,
    fault: fault.name,
    pass: problems.length === 0,
    records,
    ms: Date.now() - started,
    detail: problems.join('; '),
  };
}

function printMatrix(cells: Cell[], crms: string[]): string {
  const width = Math.max(...FAULT_CASES.map((fault) => fault.name.length));
  const lines = [
    `fault matrix (${SIZE.name}: ${SIZE.people} people per side, pages of ${SIZE.readPageSize}; records checked per cell: contacts on both sides, activities in the CRM)`,
    `${''.padEnd(width)} | ${crms.map((name) => name.padEnd(16)).join(' | ')}`,
  ];
  for (const fault of FAULT_CASES) {
    const row = crms.map((crm) => {
      const cell = cells.find((c) => c.crm === crm && c.fault === fault.name);
      const text = cell
        ? `${cell.pass ? 'pass' : 'FAIL'} ${cell.records} (${Math.round(cell.ms / 100) / 10}s)`
        : '- (full size)';
      return text.padEnd(16);
    });
    lines.push(`${fault.name.padEnd(width)} | ${row.join(' | ')}`);
  }
  const checked = cells.reduce((sum, cell) => sum + cell.records, 0);
  lines.push(`${cells.filter((c) => c.pass).length}/${cells.length} cells pass, ${checked} records checked`);
  return lines.join('\n');
}

describe(`fault matrix: contact sync and activity delivery through each CRM sandbox under each fault (${SIZE.name})`, () => {
  let database: TestDatabase;
  let crms: CrmUnderFault[];
  let bed: MatrixApp;
  const clock = new SteppingClock();
  const cells: Cell[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    crms = await startCrmsUnderFault(SIZE.clientTimeoutMs);
    bed = await startMatrixApp(database.url, crms, clock, SIZE);
  });

  afterAll(async () => {
    await bed?.close();
    for (const crm of crms ?? []) await crm.close();
    await database?.drop();
  });

  it('no duplicate, no lost or reverted update, every failure logged with its cause, status right, next run clean', async () => {
    const planned = crms.flatMap((crm, c) =>
      FAULT_CASES.filter(
        (fault, f) => (SIZE.cells === 'all' || f % crms.length === c) && ONLY.test(fault.name),
      ).map((fault) => [crm, fault] as const),
    );
    for (const [crm, fault] of planned) {
      try {
        cells.push(await runCell(bed, crm, fault, clock, database));
      } catch (error) {
        cells.push({
          crm: crm.name,
          fault: fault.name,
          pass: false,
          records: 0,
          ms: 0,
          detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    }
    const matrix = printMatrix(
      cells,
      crms.map((crm) => crm.name),
    );
    process.stdout.write(`\n${matrix}\n`);
    const failed = cells.filter((cell) => !cell.pass);
    expect(failed.map((cell) => `${cell.crm} × ${cell.fault}: ${cell.detail}`)).toEqual([]);
    expect(cells).toHaveLength(planned.length);
    expect(new Set(cells.map((cell) => cell.fault)).size).toBe(
      FAULT_CASES.filter((fault) => ONLY.test(fault.name)).length,
    );
  });
});
