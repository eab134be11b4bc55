import type { RegisteredWebhooks, RegisterWebhooksRequest } from '../../types';

/** A webhook registered through the port, one per object (tests read them). */
export type InMemoryWebhookRegistration = RegisterWebhooksRequest & { object: string };

/** Registers one webhook per object of `request`, each under an id from `nextId`. */
export function registerWebhooks(
  registered: Map<string, InMemoryWebhookRegistration>,
  nextId: () => string,
  request: RegisterWebhooksRequest,
): RegisteredWebhooks {
  const ids = request.objects.map((object) => {
    const id = nextId();
    registered.set(id, { ...request, object });
    return id;
  });
  return { ids };
}

export function removeWebhooks(registered: Map<string, InMemoryWebhookRegistration>, ids: string[]): void {
  for (const id of ids) registered.delete(id);
}
