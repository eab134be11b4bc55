import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationProblem, type InvalidParam } from './problem-details.filter';

function flatten(errors: ValidationError[], parent = ''): InvalidParam[] {
  return errors.flatMap((error) => {
    const name = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((reason) => ({ name, reason }));
    return [...own, ...flatten(error.children ?? [], name)];
  });
}

/** class-validator on every DTO; unknown properties are refused; errors name each field. */
export const apiValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new ValidationProblem(flatten(errors)),
});
