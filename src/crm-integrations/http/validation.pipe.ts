import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { LimitProblem, ValidationProblem, type InvalidParam } from './problem-details.filter';

interface FlatProblem extends InvalidParam {
  limit: boolean;
}

function flatten(errors: ValidationError[], parent = ''): FlatProblem[] {
  return errors.flatMap((error) => {
    const name = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, reason]) => ({
      name,
      reason,
      limit:
        (error.contexts?.[constraint] as { limitExceeded?: boolean } | undefined)?.limitExceeded === true,
    }));
    return [...own, ...flatten(error.children ?? [], name)];
  });
}

const ITEMS_CHECKED_BY_ROUTE = Symbol('itemsCheckedByRoute');

/**
 * Marks an array property whose items the route checks one by one (an ingest batch of 1,000 events): the DTO pipe
 * checks the array itself (type, length) but does not have class-transformer copy every item, which cost more than
 * all the route's other work. The property may carry no rules on its items.
 */
export function ItemsCheckedByRoute(): PropertyDecorator {
  return (target, property) => Reflect.defineMetadata(ITEMS_CHECKED_BY_ROUTE, property, target.constructor);
}

class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const property: unknown = metadata.metatype
      ? Reflect.getMetadata(ITEMS_CHECKED_BY_ROUTE, metadata.metatype)
      : undefined;
    if (typeof property !== 'string' || !value || typeof value !== 'object' || Array.isArray(value))
      return super.transform(value, metadata);
    const items = (value as Record<string, unknown>)[property];
    if (!Array.isArray(items)) return super.transform(value, metadata);
    // The same verdict on an array as long, of nothing to copy; the items go to the route as they came.
    const standIn = { ...value, [property]: new Array<null>(items.length).fill(null) };
    const checked = (await super.transform(standIn, metadata)) as Record<string, unknown>;
    checked[property] = items;
    return checked;
  }
}

/**
 * class-validator on every DTO; unknown properties are refused; errors name each field. A request whose only
 * faults are limits (a page size past the maximum) is a 422; anything malformed makes it a 400.
 */
export const apiValidationPipe = new ApiValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => {
    const problems = flatten(errors);
    const params = problems.map(({ name, reason }) => ({ name, reason }));
    return problems.every((problem) => problem.limit)
      ? new LimitProblem(params)
      : new ValidationProblem(params);
  },
});
