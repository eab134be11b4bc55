import { createHubSpotSandbox } from '../hubspot';
import { createPipedriveSandbox } from '../pipedrive';
import { createSalesforceSandbox } from '../salesforce';
import { SandboxControlClient } from './control-client';
import type { SandboxServer } from './sandbox-server';

/** Each sandbox's live ids of its contact object, read in-process. */
const cases: [string, () => SandboxServer, string, (sandbox: never) => string[]][] = [
  [
    'HubSpot',
    () => createHubSpotSandbox({ seed: 3 }),
    'contacts',
    (sandbox: ReturnType<typeof createHubSpotSandbox>) =>
      sandbox.portal
        .store('contacts')
        .all()
        .map((record) => record.id),
  ],
  [
    'Pipedrive',
    () => createPipedriveSandbox({ seed: 3 }),
    'persons',
    (sandbox: ReturnType<typeof createPipedriveSandbox>) =>
      sandbox.records('persons').map((record) => String(record.id)),
  ],
  [
    'Salesforce',
    () => createSalesforceSandbox({ seed: 3 }),
    'Contact',
    (sandbox: ReturnType<typeof createSalesforceSandbox>) =>
      sandbox.org.records('Contact').map((record) => record.id),
  ],
];

describe.each(cases)('POST /__sandbox/purge on the %s sandbox', (_name, create, object, liveIds) => {
  it('removes the records behind every client\u2019s back and says which', async () => {
    const sandbox = create();
    const baseUrl = await sandbox.start();
    try {
      const control = new SandboxControlClient(baseUrl);
      await control.seed({ object, count: 5 });
      const before = liveIds(sandbox as never);
      expect(before.length).toBeGreaterThanOrEqual(5);
      const victims = before.slice(0, 2);
      const answer = await control.purge({ object, ids: [...victims, 'no-such-id'] });
      expect(answer.purged).toEqual(victims);
      expect(liveIds(sandbox as never)).toEqual(before.slice(2));
    } finally {
      await sandbox.stop();
    }
  });
});
