import { plainToInstance } from 'class-transformer';
import { isEmail, validateSync, type ValidationError } from 'class-validator';
import { normaliseEmail } from '@pm/domain';
import { UpsertContactDto } from './contact.dto';

export type ContactCheck =
  | { ok: true; contact: UpsertContactDto }
  | { ok: false; email: string | null; reason: string };

function reasons(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const name = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) =>
      reason.startsWith(error.property) ? reason : `${name}: ${reason}`,
    );
    return [...own, ...reasons(error.children ?? [], name)];
  });
}

const rawEmail = (raw: unknown): string | null =>
  typeof raw === 'string' && raw.length <= 320 ? normaliseEmail(raw) : null;

/** Checks one contact of a batch on its own, with the same DTO rules as the single upsert. */
export function checkContact(raw: unknown): ContactCheck {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, email: null, reason: 'each contact must be an object' };
  }
  const email = rawEmail((raw as Record<string, unknown>).email);
  const dto = plainToInstance(UpsertContactDto, raw);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { ok: false, email, reason: reasons(errors).join('; ') };
  dto.email = normaliseEmail(dto.email);
  return { ok: true, contact: dto };
}

/** Checks one e-mail of a batch delete. */
export function checkEmail(raw: unknown): { ok: true; email: string } | { ok: false; reason: string } {
  if (typeof raw !== 'string' || raw.length > 320 || !isEmail(raw.trim())) {
    return { ok: false, reason: 'email must be a valid e-mail address' };
  }
  return { ok: true, email: normaliseEmail(raw) };
}
