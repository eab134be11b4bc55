import { Injectable } from '@nestjs/common';
import { CrmRepository } from './base.repository';

/** Whether the database answers: the health route's one query. */
@Injectable()
export class DatabaseHealthRepository extends CrmRepository {
  async answers(): Promise<boolean> {
    if (!(await this.orm.isConnected().catch(() => false))) return false;
    return this.fork()
      .getConnection()
      .execute('select 1')
      .then(
        () => true,
        () => false,
      );
  }
}
