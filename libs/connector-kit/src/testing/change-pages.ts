import type { ChangePage, CrmSession, IntegrationPort, ReadChangesRequest } from '@pm/integration-port';
import { readAllChanges } from '../paginate';

/** Every page of a change read, followed to its end (a connector test's view of one whole incremental read). */
export async function collectChangePages(
  port: Pick<IntegrationPort, 'readChanges'>,
  session: CrmSession,
  request: Omit<ReadChangesRequest, 'pageToken'>,
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of readAllChanges(port, session, request)) pages.push(page);
  return pages;
}
