import { compareInstants } from '@pm/connector-kit';
import { CrmError, CrmErrorCode } from '@pm/integration-port';
import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import type { ConflictPolicy } from '@pm/domain/model';
import { ContactSyncRunner } from './contact-sync-runner';
import { decodeCrmRecord, type StandardContactField } from './field-mapping';
import {
  aConnection,
  CountingPort,
  IN_MEMORY_CONTACTS_MAPPING,
  InMemoryCursorStore,
  InMemoryLinkStore,
  InMemoryLocalContacts,
  InMemoryRetryStore,
  inMemoryMappings,
  inMemorySessions,
  MemorySyncLog,
} from './testing';

/** A small seeded PRNG (mulberry32), so a failing seed replays exactly: SYNC_SEED=<seed> npx jest convergence. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDITABLE = [
  ['firstName', 'firstname', ['Ann', 'Bob', 'Cy', 'Di', null]],
  ['lastName', 'lastname', ['Smith', 'Jones', 'Lee', null]],
  ['company', 'company', ['Acme', 'Initech', 'Globex', 'Umbrella', null]],
  ['phone', 'phone', ['+1 555 0100', '+44 20 7946 0000', null]],
  ['lifecycleStage', 'lifecyclestage', ['subscriber', 'lead', 'customer', null]],
] as const;
const MAPPED = IN_MEMORY_CONTACTS_MAPPING.fields.map((entry) => entry.local as StandardContactField);

async function randomisedRun(seed: number, policy: ConflictPolicy, steps: number) {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let crmClock = Date.parse('2026-01-01T00:00:00Z');
  const crm = new InMemoryCrm({ now: () => new Date((crmClock += 1 + Math.floor(random() * 3_000))) });
  const connector = new InMemoryConnector(crm, { maxWriteBatch: 4 });
  const counting = new CountingPort(connector);
  const sessions = inMemorySessions(crm, connector);
  const locals = new InMemoryLocalContacts();
  const stores = {
    links: new InMemoryLinkStore(),
    cursors: new InMemoryCursorStore(),
    retries: new InMemoryRetryStore(),
    log: new MemorySyncLog(),
  };
  const connection = aConnection({ settings: { conflictPolicy: policy } });
  let runs = 0;
  // A new runner per run: nothing survives a "worker restart" but what the stores hold.
  const sync = () =>
    new ContactSyncRunner({
      port: counting.port,
      sessions,
      locals,
      ...stores,
      mappings: inMemoryMappings,
      options: { sleep: async () => undefined, readPageSize: 3, localPageSize: 5, localOverlapMs: 0 },
    }).run({ connection, runId: `run-${++runs}` });
  const emails = Array.from({ length: 40 }, (_, i) => `person${i}@example.com`);
  const faults = [
    () => new CrmError(CrmErrorCode.RATE_LIMITED, 'Too many requests', { retryAfterMs: 5 }),
    () => new CrmError(CrmErrorCode.CRM_UNAVAILABLE, 'Service Unavailable', { status: 503 }),
    () => new CrmError(CrmErrorCode.TIMEOUT, 'Request timed out'),
    () => new CrmError(CrmErrorCode.QUOTA_EXHAUSTED, 'Daily limit reached', { retryAfterMs: 1_000 }),
    () => new Error('worker killed'),
  ];

  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.32 && locals.contacts.length > 0) {
      const [field, , values] = pick(EDITABLE);
      locals.edit(pick(locals.contacts).email, { [field]: pick(values) });
    } else if (roll < 0.64 && crm.listRecords('contacts').length > 0) {
      const [, crmField, values] = pick(EDITABLE);
      crm.updateRecord('contacts', pick(crm.listRecords('contacts')).id, { [crmField]: pick(values) });
    } else if (roll < 0.72) {
      const email = pick(emails);
      if (!locals.byEmail(email)) locals.add(email, { firstName: pick(EDITABLE[0][2]) });
    } else if (roll < 0.8) {
      const email = pick(emails);
      if (crm.recordsByEmail('contacts', [email]).length === 0) {
        crm.createRecord('contacts', { email, company: pick(EDITABLE[2][2]) });
      }
    } else if (roll < 0.86) {
      const method = pick(['readChanges', 'upsertBatch', 'findByEmail'] as const);
      counting.failNext(method, pick(faults)(), { after: random() < 0.5 ? 'none' : 'call' });
    } else if (roll < 0.9) {
      crm.expireAccessToken((await sessions.getSession(connection.id)).accessToken);
    } else {
      await sync();
    }
  }

  // Faults stop; the next runs must settle and then write nothing.
  counting.clearFaults();
  let settled = false;
  for (let attempt = 0; attempt < 6 && !settled; attempt++) {
    counting.reset();
    const outcome = await sync();
    settled =
      outcome.status === 'succeeded' &&
      counting.calls.upsertBatch === 0 &&
      outcome.counts.from_crm?.contacts.created === 0;
    settled &&= !Object.values(outcome.counts.from_crm ?? {}).some((c) => c.updated > 0);
  }
  return { crm, locals, log: stores.log, settled };
}

const BASE_SEED = Number(process.env.SYNC_SEED ?? 20261124);

describe('randomised convergence (in-memory CRM, injected faults and restarts)', () => {
  it.each([
    ['crm_wins', BASE_SEED],
    ['penguinmails_wins', BASE_SEED + 1],
    ['most_recent', BASE_SEED + 2],
    ['most_recent', BASE_SEED + 3],
  ] as const)(
    '%s, seed %i: both sides agree on every mapped field, no duplicates, policy followed',
    async (policy, seed) => {
      const { crm, locals, log, settled } = await randomisedRun(seed, policy, 600);
      const context = `(replay: SYNC_SEED=${seed})`;
      expect({ settled, context }).toEqual({ settled: true, context });

      const remote = new Map<string, Record<string, string | null>>();
      for (const record of crm.listRecords('contacts')) {
        const values = decodeCrmRecord(IN_MEMORY_CONTACTS_MAPPING, record.fields);
        expect({ duplicate: remote.has(values.email as string), email: values.email, context }).toMatchObject(
          {
            duplicate: false,
          },
        );
        remote.set(values.email as string, Object.fromEntries(MAPPED.map((f) => [f, values[f] ?? null])));
      }
      const local = new Map(
        locals.contacts.map((c) => [
          c.email,
          Object.fromEntries(MAPPED.map((f) => [f, c.values[f] ?? null])),
        ]),
      );
      expect({ local: Object.fromEntries(local), context }).toEqual({
        local: Object.fromEntries(remote),
        context,
      });
      expect(local.size).toBeGreaterThan(10);

      const conflicts = log.lines.filter((line) => line.action === 'conflict_resolved');
      expect(conflicts.length).toBeGreaterThan(0);
      for (const line of conflicts) {
        const details = line.details as Record<string, string>;
        const expected =
          policy === 'crm_wins'
            ? 'crm'
            : policy === 'penguinmails_wins'
              ? 'penguinmails'
              : compareInstants(details.penguinmailsModifiedAt, details.crmModifiedAt) > 0
                ? 'penguinmails'
                : 'crm';
        expect({ winner: details.winner, rule: details.rule, context }).toEqual({
          winner: expected,
          rule: policy,
          context,
        });
      }
    },
  );
});
