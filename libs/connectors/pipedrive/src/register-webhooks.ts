import { CrmError, CrmErrorCode, type CrmSession, type RegisteredWebhooks } from '@pm/integration-port';
import type { RegisterWebhooksRequest } from '@pm/integration-port';
import type { PipedriveHttpClient } from './client';
import { createPipedriveWebhook, deletePipedriveWebhook } from './parse-webhook';

/** Pipedrive's webhook `event_object` for each object the product syncs. */
const EVENT_OBJECTS: Readonly<Record<string, string>> = {
  persons: 'person',
  organizations: 'organization',
};

/**
 * registerWebhooks: one v2.0 webhook per object (`event_action` `*`: create, change, delete and merge) with the
 * connection's HTTP Basic credentials (https://developers.pipedrive.com/docs/api/v1/Webhooks#addWebhook). Should
 * one fail, those already created are removed again, so a half registration leaves nothing behind.
 */
export async function registerPipedriveWebhooks(
  http: PipedriveHttpClient,
  session: CrmSession,
  request: RegisterWebhooksRequest,
): Promise<RegisteredWebhooks> {
  const ids: string[] = [];
  try {
    for (const object of request.objects) {
      const eventObject = EVENT_OBJECTS[object];
      if (eventObject === undefined) continue;
      ids.push(
        await createPipedriveWebhook(http, session, {
          subscriptionUrl: request.url,
          eventObject,
          eventAction: '*',
          username: request.username,
          password: request.password,
        }),
      );
    }
  } catch (error) {
    await removePipedriveWebhooks(http, session, ids).catch(() => undefined);
    throw error;
  }
  return { ids };
}

/** removeWebhooks: `DELETE /v1/webhooks/{id}` each; one Pipedrive no longer has counts as removed. */
export async function removePipedriveWebhooks(
  http: PipedriveHttpClient,
  session: CrmSession,
  ids: string[],
): Promise<void> {
  for (const id of ids) {
    try {
      await deletePipedriveWebhook(http, session, id);
    } catch (error) {
      if (!(error instanceof CrmError && error.code === CrmErrorCode.NOT_FOUND)) throw error;
    }
  }
}
