import type { Request, RequestHandler } from 'express';
import type { FaultInjector } from '../kit/fault-injector';
import type { SandboxServer } from '../kit/sandbox-server';
import type { HubSpotPortal } from './portal';

/** How batch writes report invalid records. */
export type BatchValidationMode = 'per-record' | 'whole-batch';

/** What the route modules share. */
export interface HubSpotRouteContext {
  server: SandboxServer;
  portal: HubSpotPortal;
  faults: FaultInjector;
  /** Bearer authentication plus the per-10-second limiter (headers and 429). */
  authenticated: RequestHandler;
  /** Bearer authentication plus the search endpoints' own per-second limiter. */
  authenticatedSearch: RequestHandler;
  /** Middleware refusing tokens that lack a scope (only when scope enforcement is on). */
  requireScope: (scope: string | ((req: Request) => string)) => RequestHandler;
  batchValidation: BatchValidationMode;
  /** Largest `inputs` array a batch endpoint accepts. */
  maxBatchInputs: number;
}
