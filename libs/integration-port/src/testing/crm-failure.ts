import { CrmError } from '../errors';

/** The CrmError a call fails with; anything else (or no failure at all) fails the test with what happened. */
export async function crmFailure(promise: Promise<unknown>): Promise<CrmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CrmError) return error;
    throw new Error(`expected a CrmError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail with a CrmError');
}
