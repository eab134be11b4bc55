import { createHmac, randomBytes } from 'node:crypto';

/** The header carrying the timestamp and one or two signatures: `t=1733400000,v1=<hex>[,v1=<hex>]`. */
export const WEBHOOK_SIGNATURE_HEADER = 'PenguinMails-Signature';
export const WEBHOOK_DELIVERY_HEADER = 'PenguinMails-Delivery';

/** A new signing secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** HMAC-SHA256 of `<timestamp>.<body>` with each secret (the current one first), hex. */
export function signWebhook(body: string, timestampSeconds: number, secrets: string[]): string {
  const signed = `${timestampSeconds}.${body}`;
  const signatures = secrets.map(
    (secret) => `v1=${createHmac('sha256', secret).update(signed).digest('hex')}`,
  );
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}
