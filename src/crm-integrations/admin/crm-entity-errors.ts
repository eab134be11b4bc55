import {
  DriverException,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
  type EntityProperty,
} from '@mikro-orm/core';

/** A database refusal as an admin can act on it: the form field it concerns (when known) and why. */
export interface DatabaseRefusal {
  field?: string;
  message: string;
}

/**
 * Reads a constraint violation (unique, not null, foreign key) into the entity property it names and a plain reason,
 * so an admin form shows it on the field rather than a crashed page. Anything but a driver error: undefined.
 */
export function databaseRefusal(
  error: unknown,
  entityProps: ReadonlyMap<string, EntityProperty>,
): DatabaseRefusal | undefined {
  if (!(error instanceof DriverException)) return undefined;
  const column = /column "([^"]+)"/.exec(error.message)?.[1] ?? /Key \(([^)]+)\)/.exec(error.message)?.[1];
  const field =
    [...entityProps.values()].find((prop) => prop.fieldNames?.includes(column ?? ''))?.name ?? column;
  const message =
    error instanceof UniqueConstraintViolationException
      ? 'is already taken'
      : error instanceof NotNullConstraintViolationException
        ? 'is required'
        : error instanceof ForeignKeyConstraintViolationException
          ? 'refers to a record that does not exist'
          : 'was refused by the database';
  return { field, message };
}
