import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ALL_ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { PostgreSqlTextDriver } from './postgresql-driver';

export interface OrmConfigInput {
  clientUrl: string;
  /** Postgres schema for every table; lets a host keep this plugin's tables apart from its own. */
  schema?: string;
  debug?: boolean;
  poolMax?: number;
}

/** The one MikroORM configuration: entities and the committed migrations are listed explicitly (no file globbing). */
export function createOrmConfig(input: OrmConfigInput): Options {
  return defineConfig({
    clientUrl: input.clientUrl,
    driver: PostgreSqlTextDriver,
    schema: input.schema,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    debug: input.debug ?? false,
    forceUtcTimezone: true,
    // Repositories must run inside a request context or an explicit fork: a shared identity map across requests
    // would leak one tenant's entities into another's request.
    allowGlobalContext: false,
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    pool: { min: 0, max: input.poolMax ?? 10 },
    migrations: {
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
      tableName: 'mikro_orm_migrations',
    },
  });
}
