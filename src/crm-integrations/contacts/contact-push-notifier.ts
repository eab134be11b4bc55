/**
 * DI token of the one who hears that contacts changed through the service API (the immediate push). Unbound, the
 * API works as before and the scheduled sync carries the change.
 */
export const CONTACT_PUSH_NOTIFIER = Symbol('CONTACT_PUSH_NOTIFIER');

export interface ContactPushNotifier {
  /** Contacts of the tenant written (or deleted) through the API; never throws into the request. */
  contactsChanged(tenantId: string, contactIds: string[]): Promise<void>;
}
