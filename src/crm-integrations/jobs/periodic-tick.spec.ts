import { Logger } from '@nestjs/common';
import { PeriodicTick } from './periodic-tick';

/** A tick whose passes the test finishes by hand. */
class HeldTick extends PeriodicTick {
  readonly passes: Array<{ finish: (error?: Error) => void }> = [];

  constructor(logger: Logger, enabled = true) {
    super(logger, enabled);
  }

  tick(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.passes.push({ finish: (error) => (error ? reject(error) : resolve()) });
    });
  }

  fire(): Promise<void> {
    return this.guardedTick();
  }
}

describe('PeriodicTick', () => {
  const logger = () => {
    const log = new Logger('test');
    jest.spyOn(log, 'error').mockImplementation(() => undefined);
    return log;
  };

  it('skips a tick while the previous one still runs, then ticks again once it is done', async () => {
    const timer = new HeldTick(logger());
    const first = timer.fire();
    await timer.fire();
    expect(timer.passes).toHaveLength(1);
    timer.passes[0].finish();
    await first;
    const second = timer.fire();
    expect(timer.passes).toHaveLength(2);
    timer.passes[1].finish();
    await second;
  });

  it('logs a failing tick and keeps ticking', async () => {
    const log = logger();
    const timer = new HeldTick(log);
    const failing = timer.fire();
    timer.passes[0].finish(new Error('database unavailable'));
    await expect(failing).resolves.toBeUndefined();
    expect(log.error).toHaveBeenCalledWith('Tick failed: database unavailable');
    const next = timer.fire();
    expect(timer.passes).toHaveLength(2);
    timer.passes[1].finish();
    await next;
  });

  it('never ticks when disabled', async () => {
    const timer = new HeldTick(logger(), false);
    await timer.fire();
    expect(timer.passes).toHaveLength(0);
  });
});
