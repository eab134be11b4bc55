export * from './entities';
export * from './security';
export * from './orm-config';
export { MIGRATIONS } from './migrations';
