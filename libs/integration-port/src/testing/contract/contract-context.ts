import { randomBytes } from 'node:crypto';
import type {
  ChangePage,
  ConnectorCapabilities,
  CrmRecord,
  CrmSession,
  ObjectCapability,
  SyncCursor,
  UpsertInput,
  UpsertResult,
} from '../../types';
import type { ContractFixture, StagedContact } from '../contract-fixture';
import { compareByCursorPosition, readAllPages } from './oracle';

export interface ReadResult {
  pages: ChangePage[];
  records: CrmRecord[];
}

/**
 * What the contract's cases share: the fixture and the connector's capabilities (set in `beforeAll`, so read them
 * inside a case, never when registering it), the run's staging clock and e-mail sequence, and the helpers that
 * stage, read and check contacts.
 */
export interface ContractContext {
  readonly fixture: ContractFixture;
  readonly capabilities: ConnectorCapabilities;
  readonly contactCapability: ObjectCapability | undefined;
  /** A few random characters unique to this run, in every e-mail and name it stages. */
  readonly runId: string;
  /** How many contacts `newContact` has made so far. */
  readonly emailSequence: number;
  /** The next staging instant: one second after the previous one. */
  nextInstant(): string;
  newContact(label: string): StagedContact;
  emailOf(record: CrmRecord): string | undefined;
  firstNameOf(record: CrmRecord): string | undefined;
  contactFields(contact: StagedContact): Record<string, unknown>;
  pageSize(): number;
  readContacts(session: CrmSession, since: SyncCursor | null): Promise<ReadResult>;
  /** How often each id occurs; the contract's "exactly once". */
  occurrences(records: { id: string }[], ids: Iterable<string>): Map<string, number>;
  expectOrderedByCursorPosition(records: CrmRecord[]): void;
  upsertInChunks(
    session: CrmSession,
    inputs: UpsertInput[],
    options?: { createsMatched?: boolean },
  ): Promise<UpsertResult[]>;
  /** The id of a contact that existed and is gone: well-formed for the CRM, unknown to it (or in its bin). */
  goneContactId(label: string): Promise<string>;
}

/**
 * Registers the `beforeAll`/`afterAll` that make the fixture and returns the context the cases read it through.
 * Call inside the contract's `describe`.
 */
export function createContractContext(createFixture: () => Promise<ContractFixture>): ContractContext {
  let fixture: ContractFixture;
  let capabilities: ConnectorCapabilities;
  let contactCapability: ObjectCapability | undefined;
  const runId = randomBytes(4).toString('hex');
  let emailSequence = 0;
  let kitInstantMs = Math.floor(Date.now() / 1000) * 1000 - 24 * 3_600_000;

  const nextInstant = (): string => {
    kitInstantMs += 1000;
    return new Date(kitInstantMs).toISOString();
  };

  const newContact = (label: string): StagedContact => {
    emailSequence++;
    return {
      email: `contract-${runId}-${label}-${emailSequence}@example.com`,
      firstName: `First${emailSequence}`,
      lastName: `Contract ${label}`,
    };
  };

  const emailOf = (record: CrmRecord): string | undefined => {
    const fromFixture = fixture.contact.readEmail?.(record);
    if (fromFixture !== undefined) return fromFixture;
    const value = record.fields[fixture.contact.fields.email];
    return typeof value === 'string' ? value : undefined;
  };

  const firstNameOf = (record: CrmRecord): string | undefined => {
    const fromFixture = fixture.contact.readFirstName?.(record);
    if (fromFixture !== undefined) return fromFixture;
    const value = record.fields[fixture.contact.fields.firstName];
    return typeof value === 'string' ? value : undefined;
  };

  const contactFields = (contact: StagedContact): Record<string, unknown> => ({
    [fixture.contact.fields.email]: contact.email,
    [fixture.contact.fields.firstName]: contact.firstName,
    [fixture.contact.fields.lastName]: contact.lastName,
  });

  const pageSize = (): number => fixture.readPageSize ?? Math.min(capabilities.maxReadPage, 100);

  const readContacts = async (session: CrmSession, since: SyncCursor | null): Promise<ReadResult> => {
    const pages = await readAllPages(fixture.port, session, {
      object: fixture.contact.object,
      since,
      pageSize: pageSize(),
    });
    return { pages, records: pages.flatMap((page) => page.records) };
  };

  const occurrences = (records: { id: string }[], ids: Iterable<string>): Map<string, number> => {
    const counts = new Map<string, number>([...ids].map((id) => [id, 0]));
    for (const record of records) {
      const count = counts.get(record.id);
      if (count !== undefined) counts.set(record.id, count + 1);
    }
    return counts;
  };

  const expectOrderedByCursorPosition = (records: CrmRecord[]): void => {
    for (let i = 1; i < records.length; i++) {
      if (compareByCursorPosition(records[i - 1], records[i]) > 0) {
        throw new Error(
          `readChanges must return records oldest first with ties ordered by id, but ` +
            `(${records[i - 1].modifiedAt}, ${records[i - 1].id}) came before (${records[i].modifiedAt}, ${records[i].id})`,
        );
      }
    }
  };

  const upsertInChunks = async (
    session: CrmSession,
    inputs: UpsertInput[],
    options: { createsMatched?: boolean } = {},
  ): Promise<UpsertResult[]> => {
    const results: UpsertResult[] = [];
    for (let start = 0; start < inputs.length; start += capabilities.maxWriteBatch) {
      const chunk = inputs.slice(start, start + capabilities.maxWriteBatch);
      const chunkResults = await fixture.port.upsertBatch(session, {
        object: fixture.contact.object,
        records: chunk,
        ...options,
      });
      expect(chunkResults.map((result) => result.key)).toEqual(chunk.map((input) => input.key));
      results.push(...chunkResults);
    }
    return results;
  };

  const goneContactId = async (label: string): Promise<string> => {
    const [gone] = await fixture.staging.createContacts([newContact(label)], { at: nextInstant() });
    await fixture.staging.deleteContact(gone.id, { at: nextInstant() });
    return gone.id;
  };

  beforeAll(async () => {
    fixture = await createFixture();
    capabilities = fixture.port.capabilities();
    contactCapability = capabilities.objects.find((object) => object.name === fixture.contact.object);
  });

  afterAll(async () => {
    await fixture?.close?.();
  });

  return {
    get fixture() {
      return fixture;
    },
    get capabilities() {
      return capabilities;
    },
    get contactCapability() {
      return contactCapability;
    },
    runId,
    get emailSequence() {
      return emailSequence;
    },
    nextInstant,
    newContact,
    emailOf,
    firstNameOf,
    contactFields,
    pageSize,
    readContacts,
    occurrences,
    expectOrderedByCursorPosition,
    upsertInChunks,
    goneContactId,
  };
}
