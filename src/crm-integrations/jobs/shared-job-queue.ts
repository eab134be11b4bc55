import type PgBoss from 'pg-boss';
import { createQueueIfMissing } from './create-queue';

/** Where a queue gets the process's one pg-boss instance (the sync queue starts it, maintains it and stops it). */
export interface JobBossProvider {
  start(): Promise<PgBoss>;
  /** A worker loop is about to be registered (shutdown then lets pg-boss's worker-stop check finish). */
  workerStarting(): void;
  /** Runs one job's handler of queue `queue`, counted as in flight until it settles (shutdown waits for it). */
  handling<T>(queue: string, handler: () => Promise<T>): Promise<T>;
}

/**
 * One pg-boss queue on the process's one pg-boss instance: one pool and one maintainer for every queue, instead of
 * an instance per queue. The queue is created on first use (pg-boss 10 stores nothing sent to a missing queue).
 */
export class SharedJobQueue<TJob extends object> {
  private ready?: Promise<PgBoss>;

  constructor(
    private readonly provider: JobBossProvider,
    readonly definition: PgBoss.Queue,
  ) {}

  boss(): Promise<PgBoss> {
    this.ready ??= (async () => {
      const boss = await this.provider.start();
      await createQueueIfMissing(boss, this.definition.name, this.definition);
      return boss;
    })();
    return this.ready;
  }

  async send(data: TJob, options: PgBoss.SendOptions): Promise<string | null> {
    return (await this.boss()).send(this.definition.name, data, options);
  }

  /** Works the queue one job at a time in each of `lanes` loops. */
  async work(
    lanes: number,
    pollingIntervalSeconds: number,
    handler: (job: TJob) => Promise<void>,
  ): Promise<void> {
    const boss = await this.boss();
    this.provider.workerStarting();
    for (let lane = 0; lane < Math.max(1, lanes); lane++) {
      await boss.work<TJob>(this.definition.name, { pollingIntervalSeconds, batchSize: 1 }, async ([job]) =>
        this.provider.handling(this.definition.name, () => handler(job.data)),
      );
    }
  }

  async stopWorkers(): Promise<void> {
    if (this.ready) await (await this.ready).offWork(this.definition.name);
  }
}
