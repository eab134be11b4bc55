import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ValidationProblem, type InvalidParam } from './problem-details.filter';

/** How deep a JSON body may nest (custom fields are flat data; 20 leaves room for structure, not for attacks). */
export const MAX_BODY_DEPTH = 20;

/** Keys that would reach an object's prototype in code that merges or assigns them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A NUL (PostgreSQL text refuses it) or a lone UTF-16 surrogate (not Unicode text; validators throw on it). */
function badTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it has a lone surrogate)';
  return undefined;
}

/**
 * Checks the shape of a request body and query before DTO validation, naming the field: nesting past
 * MAX_BODY_DEPTH, `__proto__`/`constructor`/`prototype` keys, NUL characters and lone surrogates in any string or
 * key. Iterative, so a body nested thousands deep cannot overflow the stack here.
 */
@Injectable()
export class BodyShapePipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query') return value;
    const problems = findShapeProblems(value);
    if (problems.length > 0) throw new ValidationProblem(problems);
    return value;
  }
}

const isCheckable = (value: unknown) =>
  typeof value === 'string' || (value !== null && typeof value === 'object');

export function findShapeProblems(root: unknown): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  const name = (path: string) => path || 'body';
  while (stack.length > 0 && problems.length < 20) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const reason = badTextReason(value);
      if (reason) problems.push({ name: name(path), reason });
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      problems.push({ name: name(path), reason: `is nested deeper than ${MAX_BODY_DEPTH} levels` });
      continue;
    }
    // Children go on the stack in order (no key/value pairs built: an ingest batch has thousands of fields);
    // numbers, booleans and nulls have nothing to check.
    const childPath = (key: string) => (path ? `${path}.${key}` : key);
    if (Array.isArray(value)) {
      value.forEach((child: unknown, index) => {
        if (isCheckable(child))
          stack.push({ value: child, path: childPath(String(index)), depth: depth + 1 });
      });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push({ name: childPath(key), reason: 'is not an allowed field name' });
        continue;
      }
      const keyReason = badTextReason(key);
      if (keyReason) {
        problems.push({ name: `${path ? `${path}.` : ''}(field name)`, reason: keyReason });
        continue;
      }
      const child = (value as Record<string, unknown>)[key];
      if (isCheckable(child)) stack.push({ value: child, path: childPath(key), depth: depth + 1 });
    }
  }
  return problems.reverse();
}
