import {
  CrmErrorCode,
  type ChangePage,
  type CrmRecord,
  type CrmSession,
  type DeleteRecordsRequest,
  type DeleteResult,
  type IntegrationPort,
} from '@pm/integration-port';

/**
 * Wraps a connector whose CRM keeps no associations (the in-memory one) so that its contacts report associated
 * companies the way HubSpot's `readChanges` and `findByEmail` do (`associations.companies`), and so that chosen
 * deletions are refused with a CRM message, one record failing alone as `deleteRecords` promises.
 */
export class AssociatingPort {
  readonly port: IntegrationPort;
  private readonly associations = new Map<string, string[]>();
  private readonly refusals = new Map<string, string>();

  constructor(
    inner: IntegrationPort,
    private readonly contactObject = 'contacts',
    private readonly companyObject = 'companies',
  ) {
    const withAssociations = (records: CrmRecord[]): CrmRecord[] =>
      records.map((record) => {
        const ids = this.associations.get(record.id);
        return record.object !== this.contactObject || ids === undefined
          ? record
          : { ...record, associations: { ...record.associations, [this.companyObject]: [...ids] } };
      });
    this.port = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        // The method as it is now, like CountingPort: a test that later replaces it on the port does not recurse.
        const method = (value as (...a: unknown[]) => unknown).bind(target);
        if (property === 'readChanges') {
          return async (...args: Parameters<IntegrationPort['readChanges']>) => {
            const page = (await method(...args)) as ChangePage;
            return { ...page, records: withAssociations(page.records) };
          };
        }
        if (property === 'findByEmail') {
          return async (...args: Parameters<IntegrationPort['findByEmail']>) =>
            withAssociations((await method(...args)) as CrmRecord[]);
        }
        if (property === 'deleteRecords') {
          return (session: CrmSession, request: DeleteRecordsRequest) =>
            this.deleteRecords(method as IntegrationPort['deleteRecords'], session, request);
        }
        return method;
      },
    });
  }

  /** From now on, the contact reports these companies (in this order; the first is the one the engine reads). */
  associate(contactId: string, companyIds: string[]): void {
    this.associations.set(contactId, companyIds);
  }

  /** Deleting this record fails with `message` until `allowDelete`. */
  refuseDelete(id: string, message: string): void {
    this.refusals.set(id, message);
  }

  allowDelete(id: string): void {
    this.refusals.delete(id);
  }

  private async deleteRecords(
    innerDelete: IntegrationPort['deleteRecords'],
    session: CrmSession,
    request: DeleteRecordsRequest,
  ): Promise<DeleteResult[]> {
    const allowed = request.ids.filter((id) => !this.refusals.has(id));
    const answered = new Map(
      (allowed.length === 0 ? [] : await innerDelete(session, { ...request, ids: allowed })).map((result) => [
        result.id,
        result,
      ]),
    );
    return request.ids.map((id): DeleteResult => {
      const refusal = this.refusals.get(id);
      if (refusal !== undefined) {
        return { id, ok: false, error: { code: CrmErrorCode.VALIDATION_FAILED, message: refusal } };
      }
      return (
        answered.get(id) ?? { id, ok: false, error: { code: CrmErrorCode.UNKNOWN, message: 'no result' } }
      );
    });
  }
}
