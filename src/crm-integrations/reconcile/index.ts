export * from './reconcile.dto';
export * from './reconcile.service';
export * from './reconcile.controller';
export * from './reconcile-scheduler';

import { ReconcileService } from './reconcile.service';

/** Providers the feature module registers and exports (the scheduler and the stream helpers queue through it). */
export const RECONCILE_PROVIDERS = [ReconcileService];
export const RECONCILE_EXPORTS = [ReconcileService];
