import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { CRM_ORM } from './crm-database';

@Injectable()
export class OrmLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CRM_ORM) private readonly orm: MikroORM) {}

  async onApplicationShutdown(): Promise<void> {
    await this.orm.close(true);
  }
}
