import type { Router } from 'express';
import { z } from 'zod';
import type { ChangeEventBus } from './change-events';
import type { StreamingEndpoint } from './streaming';

const faultsSchema = z.strictObject({
  delayMs: z.number().nonnegative().optional(),
  dropNext: z.number().int().nonnegative().optional(),
  duplicateNext: z.number().int().nonnegative().optional(),
  lossRate: z.number().min(0).max(1).optional(),
  duplicationRate: z.number().min(0).max(1).optional(),
});

const gapSchema = z.strictObject({
  entityName: z.string().min(1),
  recordIds: z.array(z.string()).default([]),
  changeType: z
    .enum(['GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW'])
    .default('GAP_UPDATE'),
});

/**
 * `/__sandbox/streaming`: how change events misbehave on live delivery (delay on the sandbox clock, loss,
 * duplication), gap events, and forgetting every CometD session (clients then get `403::Unknown client`).
 */
export function mountStreamingControl(
  router: Router,
  bus: ChangeEventBus,
  endpoint: StreamingEndpoint,
): void {
  router.get('/streaming', (_req, res) => {
    res.json({
      latestReplayId: bus.latestReplayId,
      retained: bus.retained().length,
      clients: endpoint.clientCount,
      faults: bus.configure({}),
    });
  });
  router.post('/streaming', (req, res) => {
    const parsed = faultsSchema.safeParse(req.body ?? {});
    if (!parsed.success)
      return void res.status(400).json({ error: 'invalid control request', issues: parsed.error.issues });
    res.json({ faults: bus.configure(parsed.data) });
  });
  router.post('/streaming/gap', (req, res) => {
    const parsed = gapSchema.safeParse(req.body ?? {});
    if (!parsed.success)
      return void res.status(400).json({ error: 'invalid control request', issues: parsed.error.issues });
    const event = bus.publishGap(parsed.data.entityName, parsed.data.recordIds, parsed.data.changeType);
    res.status(201).json({ replayId: event.replayId });
  });
  router.post('/streaming/forget-clients', (_req, res) => {
    res.json({ forgotten: endpoint.forgetClients() });
  });
}
