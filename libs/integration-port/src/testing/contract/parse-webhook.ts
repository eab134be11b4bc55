import { CrmErrorCode } from '../../errors';
import type { ContractContext } from './contract-context';
import { crmErrorCodeOf } from './oracle';

/** parseWebhook: signatures checked. */
export function parseWebhookCases(ctx: ContractContext): void {
  const { newContact } = ctx;

  it('accepts a correctly signed webhook and rejects a bad signature with INVALID_SIGNATURE (where supported)', async () => {
    if (!ctx.capabilities.webhooks.supported) {
      // Nothing the CRM can send: the fixture must not pretend otherwise.
      expect(ctx.fixture.webhooks).toBeUndefined();
      return;
    }
    const webhooks = ctx.fixture.webhooks;
    if (webhooks === undefined) {
      throw new Error('The capabilities say webhooks are supported: the fixture must provide `webhooks`');
    }
    const [record] = await ctx.fixture.staging.createContacts([newContact('webhook')]);
    const events = ctx.fixture.port.parseWebhook(
      webhooks.buildRequest({ recordId: record.id, action: 'updated' }, webhooks.secrets),
      webhooks.secrets,
    );
    expect(events.map((event) => event.recordId)).toContain(record.id);

    const wrongSecret = { ...webhooks.secrets, secret: `${webhooks.secrets.secret}-wrong` };
    const forged = webhooks.buildRequest({ recordId: record.id, action: 'updated' }, wrongSecret);
    expect(crmErrorCodeOf(() => ctx.fixture.port.parseWebhook(forged, webhooks.secrets))).toBe(
      CrmErrorCode.INVALID_SIGNATURE,
    );
    if (ctx.capabilities.webhooks.verification === 'hmac-sha256') {
      const tampered = webhooks.buildRequest({ recordId: record.id, action: 'updated' }, webhooks.secrets);
      tampered.rawBody = Buffer.concat([tampered.rawBody, Buffer.from(' ')]);
      expect(crmErrorCodeOf(() => ctx.fixture.port.parseWebhook(tampered, webhooks.secrets))).toBe(
        CrmErrorCode.INVALID_SIGNATURE,
      );
    }
  });
}
