import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface EncryptionKey {
  /** Stored beside every sealed secret so old secrets stay readable after a rotation. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export interface SealedSecret {
  keyId: string;
  sealed: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets at rest (OAuth tokens). Seals with the current key; opens with whichever key sealed it.
 * The connection id is bound in as additional data, so a sealed value copied onto another row does not open.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly current: EncryptionKey,
    previous: EncryptionKey[] = [],
  ) {
    for (const key of [current, ...previous]) {
      if (key.key.length !== 32) throw new Error(`Encryption key "${key.id}" must be 32 bytes`);
      this.keys.set(key.id, key.key);
    }
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string, associatedData: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.current.id,
      sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64'),
    };
  }

  /** Whether a key with this id is configured (current or previous). */
  knowsKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  open(secret: SealedSecret, associatedData: string): string {
    const key = this.keys.get(secret.keyId);
    if (!key) throw new Error(`No encryption key with id "${secret.keyId}" is configured`);
    const raw = Buffer.from(secret.sealed, 'base64');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}
