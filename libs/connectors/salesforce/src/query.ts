import { collectPages } from '@pm/connector-kit';
import { SALESFORCE_HTTP_FACTS } from './http-facts';
import type { QueryAnswer, SoqlRow } from './records';
import type { SessionConnection } from './session-connection';

/**
 * Every row of one SOQL query inside one port call: `GET /query?q=…`, then each `nextRecordsUrl` the answers link to,
 * followed by connector-kit's page follower as the declared pagination facts say (link style, rows in `records`).
 * For look-ups whose answer is small by nature (a batch of ids, e-mails or keys); change reads page per port call.
 */
export function queryAllRows(connection: SessionConnection, soql: string): Promise<SoqlRow[]> {
  return collectPages<SoqlRow>(SALESFORCE_HTTP_FACTS.pagination, (nextRecordsUrl) =>
    connection.call((conn) =>
      conn.request<QueryAnswer>(
        nextRecordsUrl ?? `${connection.baseUrl}/query?q=${encodeURIComponent(soql)}`,
      ),
    ),
  );
}
