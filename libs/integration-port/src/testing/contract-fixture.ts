import type { IntegrationPort } from '../integration-port';
import type { CrmRecord, CrmSession, WebhookEvent, WebhookRequest, WebhookSecrets } from '../types';

/** A contact as the contract kit stages it in the CRM, by meaning; the fixture maps it to the CRM's fields. */
export interface StagedContact {
  email: string;
  firstName: string;
  lastName: string;
}

export interface StagingOptions {
  /**
   * The instant (ISO-8601 UTC, whole seconds) the CRM must record as the change's time: creation and modification
   * for a create, modification for an edit, deletion for a delete. The kit sets it so that ordering and
   * shared-timestamp cases do not depend on how fast the CRM is; sandboxes honour it through their clock.
   */
  at?: string;
}

/** A record the CRM must reject, and how it says so. */
export interface InvalidContact {
  fields: Record<string, unknown>;
  /** The CRM's own message (verbatim, or a pattern), which the connector must pass through. */
  message: string | RegExp;
  /** The field the CRM names, where it names one. */
  field?: string;
}

/**
 * Changes made directly in the CRM (its sandbox's control API, or its own API), not through the port under test, so
 * the contract checks what the port reads and writes against what the CRM holds.
 */
export interface CrmStaging {
  /** Creates contacts and returns them as the CRM holds them (ids assigned), in the given order. */
  createContacts(contacts: StagedContact[], options?: StagingOptions): Promise<CrmRecord[]>;
  /** Changes a contact's fields (CRM field names). */
  editContact(id: string, fields: Record<string, unknown>, options?: StagingOptions): Promise<CrmRecord>;
  deleteContact(id: string, options?: StagingOptions): Promise<void>;
  /** The contact as the CRM holds it now; undefined when it does not exist. */
  readContact(id: string): Promise<CrmRecord | undefined>;
  /** Turns valid contact fields into fields the CRM rejects (a malformed e-mail, a missing required field). */
  invalidContact(validFields: Record<string, unknown>): InvalidContact;
}

/** How the CRM would call a webhook, for connectors whose capabilities say webhooks are supported. */
export interface WebhookFixture {
  /** The secrets the connection was set up with. */
  secrets: WebhookSecrets;
  /** A request as the CRM sends it for one change, signed or authenticated with `secrets`. */
  buildRequest(
    change: { recordId: string; action: WebhookEvent['action'] },
    secrets: WebhookSecrets,
  ): WebhookRequest;
}

/** What the CRM (its sandbox) counted of the requests the port under test made. */
export interface RequestCounts {
  /** Starts counting afresh. */
  reset(): void | Promise<void>;
  /** Look-up requests (searches or reads by e-mail, SOQL queries) counted since the reset. */
  lookups(): number | Promise<number>;
}

/** Everything the contract kit needs to run against one connector and the CRM (or sandbox) behind it. */
export interface ContractFixture {
  port: IntegrationPort;
  /** A usable session for one connected account, obtained by the fixture (e.g. OAuth against a sandbox). */
  session(): Promise<CrmSession>;
  contact: {
    /** The CRM's contact object name ('Contact', 'contacts', 'persons'). */
    object: string;
    /**
     * The CRM field names of the contact's e-mail, first and last name, and of a custom text field that may hold a
     * matching key (not unique: two contacts may share a value), as `describeObject` names it.
     */
    fields: { email: string; firstName: string; lastName: string; customKey: string };
    /** Reads the e-mail from a record where it is not a plain string field (Pipedrive `emails[]`). */
    readEmail?(record: CrmRecord): string | undefined;
    /** Reads the first name likewise. */
    readFirstName?(record: CrmRecord): string | undefined;
  };
  staging: CrmStaging;
  /** The redirect URI registered for the OAuth client the port is configured with. */
  oauth: { redirectUri: string };
  /** Required when the capabilities say webhooks are supported. */
  webhooks?: WebhookFixture;
  /**
   * The CRM's request counter, where the fixture has one (a sandbox's): lets the kit check what a call cost, e.g.
   * that a create the caller has matched (`createsMatched`) makes no look-up of its own.
   */
  requests?: RequestCounts;
  /** The page size asked of `readChanges`; default min(capabilities.maxReadPage, 100). The port must honour it. */
  readPageSize?: number;
  /** Stops servers and releases what the fixture holds; called once after the suite. */
  close?(): Promise<void>;
}
