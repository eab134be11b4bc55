// Jest setup file (every test file): secrets a sandbox hands out are recorded for the run's secret scan.
import { recordSecret } from './secret-scan';

(globalThis as Record<symbol, unknown>)[Symbol.for('pm.sandboxes.issuedSecret')] = recordSecret;
