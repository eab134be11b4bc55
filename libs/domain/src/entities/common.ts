import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

/** E-mail as stored and matched everywhere: trimmed and lower-cased (the local part too: CRMs match case-insensitively). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
