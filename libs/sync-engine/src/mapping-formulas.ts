import jsonata from 'jsonata';

/**
 * JSONata formulas of a field mapping: checked when a mapping is saved (syntax, the fields they read) and evaluated
 * per record with a time, depth, sequence and output-size bound. A formula that throws or runs away fails the one
 * record it was evaluated for (`FormulaError`, with a message naming the field); it never stops a run or the process.
 *
 * The bounds are JSONata's own guardrails (`timeout`, `stack`, `sequence`): they are checked at every evaluation
 * step, so even a formula that never yields (unbounded recursion, a huge loop) stops at its deadline.
 */

export interface FormulaLimits {
  /** Wall-clock budget of one evaluation. */
  timeoutMs: number;
  /** Deepest evaluation nesting (unbounded recursion ends here). */
  maxDepth: number;
  /** Longest sequence one evaluation may build. */
  maxSequence: number;
  /** Longest result, as JSON text. */
  maxOutputChars: number;
}

export const DEFAULT_FORMULA_LIMITS: FormulaLimits = {
  timeoutMs: 200,
  maxDepth: 250,
  maxSequence: 100_000,
  maxOutputChars: 10_000,
};

/** The longest formula text a mapping accepts. */
export const MAX_FORMULA_LENGTH = 2_000;

/** A formula that could not give a value for one record. */
export class FormulaError extends Error {
  constructor(
    /** The mapping key (local field, or `=<crm field>`) the formula computes. */
    readonly field: string,
    message: string,
  ) {
    super(`Formula for ${field} failed: ${message}`);
    this.name = 'FormulaError';
  }
}

interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

const describeFailure = (error: unknown, limits: FormulaLimits): string => {
  const failure = (error ?? {}) as JsonataFailure;
  switch (failure.code) {
    case 'D1012':
      return `it ran longer than ${limits.timeoutMs} ms (stopped)`;
    case 'D1011':
      return `it nested deeper than ${limits.maxDepth} levels (unbounded recursion?)`;
    case 'D2014':
    case 'D2015':
      return `it built a sequence longer than ${limits.maxSequence} items`;
    case 'D3137':
      // The formula's own $error("…"): its message is the whole story.
      return failure.message ?? 'the formula raised an error';
    default: {
      const text = failure.message ?? (error instanceof Error ? error.message : String(error));
      return failure.code ? `${failure.code}: ${text}` : text;
    }
  }
};

/** Compiled formulas, by source and limits, so a page of records compiles each once. */
class CompiledFormulas {
  private readonly cache = new Map<string, jsonata.Expression>();

  get(source: string, limits: FormulaLimits): jsonata.Expression {
    const key = `${limits.timeoutMs}|${limits.maxDepth}|${limits.maxSequence}|${source}`;
    let expression = this.cache.get(key);
    if (!expression) {
      expression = jsonata(source, {
        timeout: limits.timeoutMs,
        stack: limits.maxDepth,
        sequence: limits.maxSequence,
      });
      // A bounded cache: mappings hold few formulas; the oldest goes first.
      if (this.cache.size >= 500) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, expression);
    }
    return expression;
  }
}

const compiled = new CompiledFormulas();

/** A formula's result as a field value: text (numbers, booleans and objects as text), null when empty. */
function toFieldValue(field: string, result: unknown, limits: FormulaLimits): string | null {
  if (result === undefined || result === null) return null;
  if (typeof result === 'function') throw new FormulaError(field, 'it gave a function, not a value');
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  if (text.length > limits.maxOutputChars) {
    throw new FormulaError(field, `its result is longer than ${limits.maxOutputChars} characters`);
  }
  const trimmed = text.trim();
  return trimmed === '' ? null : trimmed;
}

/** Evaluates one formula for one record; throws `FormulaError` naming `field` when it cannot. */
export async function evaluateFormula(
  field: string,
  source: string,
  input: Record<string, unknown>,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): Promise<string | null> {
  const expression = compiled.get(source, limits);
  for (let attempt = 1; ; attempt++) {
    const cpuBefore = process.cpuUsage();
    try {
      return toFieldValue(field, await expression.evaluate(input), limits);
    } catch (error) {
      if (error instanceof FormulaError) throw error;
      if (attempt < MAX_STARVED_ATTEMPTS && wasStarved(error, cpuBefore, limits)) continue;
      throw new FormulaError(field, describeFailure(error, limits));
    }
  }
}

/** Evaluations of one formula for one record that may end at the deadline without having used its time. */
const MAX_STARVED_ATTEMPTS = 3;

/**
 * JSONata's deadline is wall-clock time. A formula that runs away spends that time on the CPU; one that passed the
 * deadline while this process did not get the CPU (a busy machine, a garbage collection) used little of it, and is
 * evaluated again rather than failing its record.
 */
function wasStarved(error: unknown, cpuBefore: NodeJS.CpuUsage, limits: FormulaLimits): boolean {
  if ((error as JsonataFailure | undefined)?.code !== 'D1012') return false;
  const used = process.cpuUsage(cpuBefore);
  return (used.user + used.system) / 1_000 < limits.timeoutMs / 2;
}

/** What a formula check found: its syntax error, or the input fields it reads that do not exist. */
export interface FormulaCheck {
  syntaxError?: string;
  unknownFields: string[];
  /** The top-level input fields the formula reads. */
  fields: string[];
}

type AstNode = Record<string, unknown> & { type?: string; value?: unknown };

/**
 * The input fields a formula reads at its top level: the first step of each path evaluated against the input.
 * Names inside predicates, later path steps and function bodies are relative to something else and are left out.
 */
export function formulaInputFields(source: string): string[] {
  const fields = new Set<string>();
  const visit = (node: unknown, atRoot: boolean): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, atRoot);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const ast = node as AstNode;
    if (ast.type === 'name' && atRoot && typeof ast.value === 'string') fields.add(ast.value);
    for (const [key, child] of Object.entries(ast)) {
      if (key === 'steps' && Array.isArray(child)) {
        child.forEach((step, index) => visit(step, atRoot && index === 0));
      } else if (['stages', 'predicate', 'group', 'body', 'update', 'delete'].includes(key)) {
        visit(child, false);
      } else if (typeof child === 'object') {
        visit(child, atRoot);
      }
    }
  };
  visit(jsonata(source).ast(), true);
  return [...fields];
}

/** Checks a formula when a mapping is saved: it parses, and every input field it reads is one `known` accepts. */
export function checkFormula(source: string, known: (field: string) => boolean): FormulaCheck {
  if (source.length > MAX_FORMULA_LENGTH) {
    return {
      syntaxError: `longer than ${MAX_FORMULA_LENGTH} characters`,
      unknownFields: [],
      fields: [],
    };
  }
  let fields: string[];
  try {
    fields = formulaInputFields(source);
  } catch (error) {
    const failure = (error ?? {}) as JsonataFailure;
    const where = failure.position === undefined ? '' : ` at position ${failure.position}`;
    return {
      syntaxError: `${failure.message ?? String(error)}${where}`,
      unknownFields: [],
      fields: [],
    };
  }
  return { fields, unknownFields: fields.filter((field) => !known(field)) };
}
