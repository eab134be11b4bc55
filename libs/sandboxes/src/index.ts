// Public entry of @pm/sandboxes: the kit and every CRM sandbox factory.
export * from './kit';
