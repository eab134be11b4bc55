import type PgBoss from 'pg-boss';

/** PostgreSQL's "deadlock detected". */
const DEADLOCK = '40P01';
const ATTEMPTS = 5;

/**
 * Creates a pg-boss queue if it does not exist. pg-boss 10 makes a queue's partition table and adds its foreign key
 * to `pgboss.queue`; two processes (or two queues of one process) doing that at the same moment can deadlock, and
 * PostgreSQL then aborts one of them. Creating a queue is idempotent, so the aborted side simply tries again.
 */
export async function createQueueIfMissing(
  boss: Pick<PgBoss, 'createQueue'>,
  name: string,
  options: PgBoss.Queue,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.createQueue(name, options);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= ATTEMPTS) throw error;
    }
  }
}
