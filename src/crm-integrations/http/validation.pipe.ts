import { ValidationPipe, type ValidationError } from '@nestjs/common';
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

/**
 * class-validator on every DTO; unknown properties are refused; errors name each field. A request whose only
 * faults are limits (a page size past the maximum) is a 422; anything malformed makes it a 400.
 */
export const apiValidationPipe = new ValidationPipe({
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
