// The domain's plain types and constants: no ORM, no decorators. The entities re-export them; libraries that must
// not load MikroORM (the sync engine) import them from here (`@pm/domain/model`).
export * from './connection-settings';
export * from './contact-fields';
export * from './field-provenance';
export * from './sync-log-actions';
export * from './sync-run-counts';
export * from './reconcile-drift';
