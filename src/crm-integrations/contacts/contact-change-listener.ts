/** DI token of the one who hears that a tenant's contact change feed may have grown (the webhook dispatcher). */
export const CONTACT_CHANGE_LISTENER = Symbol('CONTACT_CHANGE_LISTENER');

export interface ContactChangeListener {
  changesRecorded(tenantId: string): Promise<void>;
}
