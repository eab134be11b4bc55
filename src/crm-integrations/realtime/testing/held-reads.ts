import type { CrmRecord, CrmSession, GetRecordsRequest, IntegrationPort } from '@pm/integration-port';

/**
 * A connector whose reads by id a test can hold: while held, a targeted sync stops inside its read (holding the
 * connection's lock) until the test releases it, so a test can show what does not wait on the sync.
 */
export class HeldReads {
  private gate?: { entered: () => void; released: Promise<void> };

  constructor(private readonly connector: IntegrationPort) {}

  /** The connector as the app sees it: every operation its own, reads by id held while a `hold()` is in force. */
  port(): IntegrationPort {
    const held = Object.create(this.connector) as IntegrationPort;
    held.getRecords = async (session: CrmSession, request: GetRecordsRequest): Promise<CrmRecord[]> => {
      const gate = this.gate;
      if (gate) {
        gate.entered();
        await gate.released;
      }
      return this.connector.getRecords(session, request);
    };
    return held;
  }

  /** Holds the reads from now on; `entered` resolves once one has begun, `release` lets them (and later ones) go. */
  hold(): { entered: Promise<void>; release: () => void } {
    let entered!: () => void;
    let release!: () => void;
    const enteredOnce = new Promise<void>((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gate = { entered, released };
    return {
      entered: enteredOnce,
      release: () => {
        this.gate = undefined;
        release();
      },
    };
  }
}
