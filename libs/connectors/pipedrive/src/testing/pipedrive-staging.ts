import type { CrmRecord, CrmSession } from '@pm/integration-port';
import type { CrmStaging, StagedContact } from '@pm/integration-port/testing';
import { signInToSandbox } from '@pm/sandboxes/testing';
import type { PipedriveConnector } from '../connector';
import { toCrmRecord, toRequestBody, type PipedriveApiRecord } from '../objects';

/*
 * Test helpers shared by the Pipedrive specs and the app's sandbox tests ('@pm/connectors/pipedrive/testing'). The
 * sandbox is described structurally, so the staging works on any Pipedrive sandbox the caller started.
 */

export interface PipedriveSandboxLike {
  baseUrl: string;
  clock: { freeze(at: Date | string | number): void; reset(): void };
  oauth: { clientId: string; clientSecret: string };
  createInCrm(object: 'persons', fields: Record<string, unknown>): Record<string, unknown>;
  editInCrm(object: 'persons', id: number | string, fields: Record<string, unknown>): Record<string, unknown>;
  deleteInCrm(object: 'persons', id: number | string): void;
  records(object: 'persons'): Record<string, unknown>[];
}

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/pipedrive/callback';

/** Runs `stage` with the sandbox clock frozen at `at` (whole seconds), so every change carries that stamp. */
function atInstant<T>(sandbox: PipedriveSandboxLike, at: string | undefined, stage: () => T): T {
  if (at === undefined) return stage();
  sandbox.clock.freeze(at);
  try {
    return stage();
  } finally {
    sandbox.clock.reset();
  }
}

export function personFields(contact: StagedContact): Record<string, unknown> {
  return {
    name: `${contact.firstName} ${contact.lastName}`,
    emails: [{ value: contact.email, primary: true }],
  };
}

function asRecord(api: Record<string, unknown>): CrmRecord {
  return toCrmRecord('persons', api as PipedriveApiRecord);
}

/** Changes made "in Pipedrive" (the sandbox's staging helpers), for the contract kit and the specs. */
export function pipedriveStaging(sandbox: PipedriveSandboxLike): CrmStaging {
  const find = (id: string) => sandbox.records('persons').find((record) => String(record.id) === id);
  return {
    async createContacts(contacts, options) {
      return atInstant(sandbox, options?.at, () =>
        contacts.map((contact) => asRecord(sandbox.createInCrm('persons', personFields(contact)))),
      );
    },
    async editContact(id, fields, options) {
      const current = find(id) as PipedriveApiRecord | undefined;
      const body = toRequestBody('persons', fields, current);
      return atInstant(sandbox, options?.at, () => asRecord(sandbox.editInCrm('persons', id, body)));
    },
    async deleteContact(id, options) {
      atInstant(sandbox, options?.at, () => sandbox.deleteInCrm('persons', id));
    },
    async readContact(id) {
      const record = find(id);
      return record && asRecord(record);
    },
    invalidContact(validFields) {
      // Pipedrive checks that a linked organization exists and names the field in its schema error.
      return {
        fields: { ...validFields, org_id: 987_654_321 },
        message: 'Validation failed: org_id: Organization 987654321 not found',
        field: 'org_id',
      };
    },
  };
}

/** OAuth against the sandbox through the connector: authorize page, Allow, code exchange. */
export async function connectSession(
  connector: PipedriveConnector,
  connectionId = 'pipedrive-test-connection',
): Promise<CrmSession> {
  const tokens = await signInToSandbox(connector, REDIRECT_URI);
  return {
    connectionId,
    accessToken: tokens.accessToken,
    instanceUrl: tokens.instanceUrl,
    accountId: tokens.account.id,
  };
}
