import { InMemoryConnector, InMemoryCrm } from '@pm/integration-port/testing';
import type { ConnectionSettings } from '@pm/domain/model';
import { ContactSyncRunner } from '../contact-sync-runner';
import type { FieldMappingSource } from '../field-mapping';
import type { FormulaLimits } from '../mapping-formulas';
import { AssociatingPort } from './associating-port';
import { aConnection, inMemoryMappings, inMemorySessions } from './builders';
import { CountingPort } from './counting-port';
import type { CompanyMappingSource } from '../company-mapping';
import { InMemoryLocalCompanies } from './in-memory-companies';
import {
  InMemoryCursorStore,
  InMemoryLinkStore,
  InMemoryLocalContacts,
  InMemoryRetryStore,
  MemorySyncLog,
} from './in-memory-stores';

/**
 * A runner wired to the in-memory CRM (through a port that reports associations and one that counts calls and
 * injects faults) and to in-memory stores, with a CRM clock one second per write and no waiting between retries.
 */
export function inMemorySyncHarness(
  settings: Partial<ConnectionSettings> = {},
  options: {
    maxWriteBatch?: number;
    readPageSize?: number;
    localPageSize?: number;
    mappings?: FieldMappingSource;
    formulaLimits?: FormulaLimits;
    companies?: boolean;
    companyMappings?: CompanyMappingSource;
    /** How far the CRM's clock moves per write (default one second; not a whole second: sub-second stamps). */
    crmTickMs?: number;
  } = {},
) {
  let crmClock = Date.parse('2026-01-01T00:00:00Z');
  const tick = options.crmTickMs ?? 1_000;
  const crm = new InMemoryCrm({ now: () => new Date((crmClock += tick)) });
  const connector = new InMemoryConnector(crm, { maxWriteBatch: options.maxWriteBatch ?? 3 });
  const associating = new AssociatingPort(connector);
  const counting = new CountingPort(associating.port);
  const sessions = inMemorySessions(crm, connector);
  const locals = new InMemoryLocalContacts();
  const companies = new InMemoryLocalCompanies(locals);
  const links = new InMemoryLinkStore();
  const cursors = new InMemoryCursorStore();
  const retries = new InMemoryRetryStore();
  const log = new MemorySyncLog();
  const connection = aConnection({ settings });
  let runs = 0;
  const runner = new ContactSyncRunner({
    port: counting.port,
    sessions,
    links,
    cursors,
    locals,
    companies: options.companies ? companies : undefined,
    companyMappings: options.companyMappings,
    retries,
    log,
    mappings: options.mappings ?? inMemoryMappings,
    options: {
      sleep: async () => undefined,
      localOverlapMs: 0,
      readPageSize: options.readPageSize,
      ...(options.localPageSize ? { localPageSize: options.localPageSize } : {}),
      formulaLimits: options.formulaLimits,
    },
  });
  const run = (signal?: AbortSignal) => runner.run({ connection, runId: `run-${++runs}`, signal });
  const crmContact = (email: string) =>
    crm.listRecords('contacts').find((record) => record.fields.email === email);
  return {
    crm,
    connector,
    associating,
    counting,
    sessions,
    locals,
    companies,
    links,
    cursors,
    retries,
    log,
    connection,
    run,
    crmContact,
  };
}
