import { Logger, type FactoryProvider, type Provider } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, SecretBox } from '@pm/domain';
import { CRM_INTEGRATIONS_OPTIONS, type CrmIntegrationsOptions } from '../crm-integrations.options';

/** The plugin's own MikroORM instance, separate from any ORM the host runs. */
export const CRM_ORM = Symbol('CRM_ORM');

export const crmOrmProvider: FactoryProvider<Promise<MikroORM>> = {
  provide: CRM_ORM,
  inject: [CRM_INTEGRATIONS_OPTIONS],
  useFactory: async (options: CrmIntegrationsOptions) => {
    const orm = await MikroORM.init(
      createOrmConfig({
        clientUrl: options.database.clientUrl,
        schema: options.database.schema,
        poolMax: options.database.poolMax,
      }),
    );
    if (options.database.migrateOnStart !== false) {
      if (options.database.schema) {
        await orm.em.getConnection().execute(`create schema if not exists "${options.database.schema}"`);
      }
      const applied = await orm.getMigrator().up();
      if (applied.length > 0) {
        new Logger('Database').log(
          `Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`,
        );
      }
    }
    return orm;
  },
};

export const secretBoxProvider: Provider = {
  provide: SecretBox,
  inject: [CRM_INTEGRATIONS_OPTIONS],
  useFactory: (options: CrmIntegrationsOptions) =>
    new SecretBox(options.encryption.current, options.encryption.previous ?? []),
};
