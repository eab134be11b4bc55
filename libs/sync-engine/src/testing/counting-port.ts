import type { IntegrationPort } from '@pm/integration-port';

const COUNTED_METHODS = [
  'readChanges',
  'upsertBatch',
  'findByEmail',
  'findByField',
  'getRecords',
  'deleteRecords',
] as const;
type PortMethod = (typeof COUNTED_METHODS)[number];
const isCounted = (property: string | symbol): property is PortMethod =>
  (COUNTED_METHODS as readonly (string | symbol)[]).includes(property);

/**
 * Wraps a connector to count its calls (and records written) and to inject faults: `failNext('upsertBatch', e)`
 * makes the next call throw `e`; `after: 'call'` lets the call reach the CRM first, as a response lost on the wire.
 */
export class CountingPort {
  readonly calls: Record<PortMethod, number> = {
    readChanges: 0,
    upsertBatch: 0,
    findByEmail: 0,
    findByField: 0,
    getRecords: 0,
    deleteRecords: 0,
  };
  readonly batchSizes: number[] = [];
  private readonly faults: { method: PortMethod; error: unknown; after: 'none' | 'call' }[] = [];
  readonly port: IntegrationPort;

  constructor(private readonly inner: IntegrationPort) {
    this.port = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (!isCounted(property)) {
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        return async (...args: unknown[]) => {
          const method = property;
          this.calls[method]++;
          const index = this.faults.findIndex((fault) => fault.method === method);
          const fault = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
          if (fault?.after === 'none') throw fault.error;
          if (method === 'upsertBatch') {
            this.batchSizes.push((args[1] as { records: unknown[] }).records.length);
          }
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (fault) throw fault.error;
          return result;
        };
      },
    });
  }

  failNext(
    method: PortMethod,
    error: unknown,
    options: { after?: 'none' | 'call'; times?: number } = {},
  ): void {
    for (let i = 0; i < (options.times ?? 1); i++) {
      this.faults.push({ method, error, after: options.after ?? 'none' });
    }
  }

  /** Drops faults not triggered yet. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  writes(): number {
    return this.calls.upsertBatch;
  }

  reset(): void {
    for (const method of COUNTED_METHODS) this.calls[method] = 0;
    this.batchSizes.length = 0;
  }

  get innerPort(): IntegrationPort {
    return this.inner;
  }
}
