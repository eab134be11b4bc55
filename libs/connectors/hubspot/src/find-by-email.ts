import { inBatches, uniqueNormalisedEmails } from '@pm/connector-kit';
import { CrmError, CrmErrorCode, type CrmRecord } from '@pm/integration-port';
import type { HubSpotCall } from './client';
import { HUBSPOT_MAX_BATCH, HUBSPOT_PROVIDER } from './config';
import { propertiesToRead, requireObject, toCrmRecord } from './records';

/**
 * findByEmail: `batch/read` with `idProperty: "email"`, 100 e-mails a call. HubSpot keeps contact e-mails
 * lower-cased and unique, so a lower-cased lookup is case-insensitive and finds at most one contact per e-mail.
 * Batch read is chosen over search because search is eventually consistent (its index lags writes by seconds) and
 * has its own, smaller rate limit; unknown e-mails come back as a 207 "not found" entry, which is no error here.
 */
export async function findHubSpotByEmail(
  call: HubSpotCall,
  object: string,
  emails: string[],
): Promise<CrmRecord[]> {
  const info = requireObject(object);
  const emailField = info.capability.emailField;
  if (emailField === undefined || !info.capability.upsertByEmail) {
    throw new CrmError(CrmErrorCode.VALIDATION_FAILED, `HubSpot ${object} have no unique e-mail to look up`, {
      provider: HUBSPOT_PROVIDER,
    });
  }
  const properties = propertiesToRead(info, undefined);
  const found = new Map<string, CrmRecord>();
  for (const chunk of inBatches(uniqueNormalisedEmails(emails), HUBSPOT_MAX_BATCH)) {
    const response = await call.run(() =>
      call.objects.batchApi.read(
        object,
        {
          inputs: chunk.map((id) => ({ id })),
          idProperty: emailField,
          properties,
          propertiesWithHistory: [],
        },
        false,
        call.options,
      ),
    );
    for (const result of response.results) found.set(result.id, toCrmRecord(info, result));
  }
  return [...found.values()];
}
