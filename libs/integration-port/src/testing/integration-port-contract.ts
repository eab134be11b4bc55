import type { ContractFixture } from './contract-fixture';
import { capabilitiesCases } from './contract/capabilities';
import { createContractContext } from './contract/contract-context';
import { deleteRecordsCases } from './contract/delete-records';
import { describeObjectCases } from './contract/describe-object';
import { findByEmailCases } from './contract/find-by-email';
import { findByFieldCases } from './contract/find-by-field';
import { findCompaniesCases } from './contract/find-companies';
import { getRecordsCases } from './contract/get-records';
import { listIdsCases } from './contract/list-ids';
import { logActivitiesCases } from './contract/log-activities';
import { oauthCases } from './contract/oauth';
import { parseWebhookCases } from './contract/parse-webhook';
import { readChangesCases } from './contract/read-changes';
import { upsertBatchCases } from './contract/upsert-batch';

/**
 * The contract every connector and its CRM sandbox must pass: one Jest suite, run once per connector with a fixture
 * that supplies the port, a session and CRM-side staging. It checks behaviour the sync engine relies on — what a
 * connector returns, not how it calls its CRM — and reads page by page as the engine's `readAllChanges` does.
 *
 * Staged changes are stamped by the kit on a clock that starts a day in the past and moves in whole seconds, so
 * they never collide with each other and CRMs with one-second precision keep their order.
 *
 * The cases live under contract/, one file per port operation (named as in every connector folder); the cursor
 * rules they check against are the kit's own (contract/oracle.ts). They run in the order registered here.
 */
export function describeIntegrationPortContract(
  name: string,
  createFixture: () => Promise<ContractFixture>,
): void {
  describe(`${name}: IntegrationPort contract`, () => {
    const ctx = createContractContext(createFixture);
    capabilitiesCases(ctx);
    oauthCases(ctx);
    describeObjectCases(ctx);
    readChangesCases(ctx);
    getRecordsCases(ctx);
    deleteRecordsCases(ctx);
    listIdsCases(ctx);
    upsertBatchCases(ctx);
    findByEmailCases(ctx);
    findByFieldCases(ctx);
    findCompaniesCases(ctx);
    logActivitiesCases(ctx);
    parseWebhookCases(ctx);
  });
}
