// A subset of SOQL, parsed and evaluated in memory: enough for the queries a CRM sync connector sends.
// Follows the SOQL and SOSL Reference ("SOQL SELECT Syntax", "WHERE", "Comparison Operators", "Date Formats
// and Date Literals", "ORDER BY", "LIMIT", "OFFSET", "COUNT()").
// Supported: SELECT <fields | parent.field | COUNT() | COUNT(field) | FIELDS(ALL|STANDARD|CUSTOM)> FROM <object>
// [WHERE ...] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n].
// WHERE: = != <> < > <= >=, [NOT] IN (...), [NOT] LIKE (via NOT), AND / OR / NOT with parentheses (mixing AND and
// OR at one level without parentheses is rejected, as Salesforce does), string / number / boolean / null / date /
// datetime literals and the date literals TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n.

export type SoqlErrorCode =
  | 'MALFORMED_QUERY'
  | 'INVALID_TYPE'
  | 'INVALID_FIELD'
  | 'INVALID_QUERY_FILTER_OPERATOR'
  | 'NUMBER_OUTSIDE_VALID_RANGE';

/** An error Salesforce reports as `[{ message, errorCode }]` with HTTP 400. */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: SoqlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = errorCode;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value for strings; canonical text for everything else. */
  value: string;
  position: number;
}

const DATETIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const NUMBER_PATTERN = /^-?\d+(\.\d+)?/;
const IDENT_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*/;

const STRING_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < soql.length) {
    const char = soql[index];
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    const rest = soql.slice(index);
    if (char === "'") {
      let value = '';
      let cursor = index + 1;
      let closed = false;
      while (cursor < soql.length) {
        const current = soql[cursor];
        if (current === '\\') {
          const escaped = soql[cursor + 1];
          if (escaped === undefined) break;
          if (escaped in STRING_ESCAPES) value += STRING_ESCAPES[escaped];
          else if (escaped === '%' || escaped === '_')
            value += '\\' + escaped; // kept for LIKE, where it means a literal
          else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(soql.slice(cursor + 2, cursor + 6))) {
            value += String.fromCharCode(parseInt(soql.slice(cursor + 2, cursor + 6), 16));
            cursor += 4;
          } else {
            throw syntaxError(
              soql,
              cursor,
              `Invalid string literal '${soql.slice(index, cursor + 2)}'. Illegal character sequence '\\${escaped}' in string literal.`,
            );
          }
          cursor += 2;
          continue;
        }
        if (current === "'") {
          closed = true;
          break;
        }
        value += current;
        cursor++;
      }
      if (!closed) throw syntaxError(soql, index, `Invalid string literal. Missing closing quote.`);
      tokens.push({ kind: 'string', text: soql.slice(index, cursor + 1), value, position: index });
      index = cursor + 1;
      continue;
    }
    const datetime = DATETIME_PATTERN.exec(rest);
    if (datetime) {
      tokens.push({ kind: 'datetime', text: datetime[0], value: datetime[0], position: index });
      index += datetime[0].length;
      continue;
    }
    const date = DATE_PATTERN.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], value: date[0], position: index });
      index += date[0].length;
      continue;
    }
    const previous = tokens[tokens.length - 1];
    const minusAllowed =
      !previous || previous.kind === 'op' || previous.text === '(' || previous.text === ',';
    const number = NUMBER_PATTERN.exec(rest);
    if (number && (char !== '-' || minusAllowed)) {
      tokens.push({ kind: 'number', text: number[0], value: number[0], position: index });
      index += number[0].length;
      continue;
    }
    const ident = IDENT_PATTERN.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], value: ident[0], position: index });
      index += ident[0].length;
      continue;
    }
    const twoChars = rest.slice(0, 2);
    if (twoChars === '!=' || twoChars === '<>' || twoChars === '<=' || twoChars === '>=') {
      tokens.push({
        kind: 'op',
        text: twoChars,
        value: twoChars === '<>' ? '!=' : twoChars,
        position: index,
      });
      index += 2;
      continue;
    }
    if (char === '=' || char === '<' || char === '>') {
      tokens.push({ kind: 'op', text: char, value: char, position: index });
      index++;
      continue;
    }
    if (char === '(' || char === ')' || char === ',' || char === '.' || char === ':') {
      tokens.push({ kind: 'punct', text: char, value: char, position: index });
      index++;
      continue;
    }
    throw syntaxError(soql, index, `unexpected token: '${char}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', value: '', position: soql.length });
  return tokens;
}

/** Salesforce's error message layout: the query, a caret under the offending column, then the reason. */
function syntaxError(
  soql: string,
  position: number,
  detail: string,
  code: SoqlErrorCode = 'MALFORMED_QUERY',
) {
  const before = soql.slice(0, position);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = position - lineStart + 1;
  const line = soql.split('\n')[row - 1] ?? '';
  return new SoqlError(
    code,
    `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// AST

export interface FieldPath {
  /** As written, e.g. ['Account', 'Name']. */
  path: string[];
  position: number;
}

export type SoqlLiteral =
  | { kind: 'string'; value: string; position: number }
  | { kind: 'number'; value: number; position: number }
  | { kind: 'boolean'; value: boolean; position: number }
  | { kind: 'null'; position: number }
  | { kind: 'date'; value: string; position: number }
  | { kind: 'datetime'; epochMs: number; text: string; position: number }
  | { kind: 'dateLiteral'; name: string; n: number; position: number };

export type ComparisonOperator = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type SoqlCondition =
  | { kind: 'and'; operands: SoqlCondition[] }
  | { kind: 'or'; operands: SoqlCondition[] }
  | { kind: 'not'; operand: SoqlCondition }
  | { kind: 'compare'; field: FieldPath; operator: ComparisonOperator; value: SoqlLiteral }
  | { kind: 'in'; field: FieldPath; negated: boolean; values: SoqlLiteral[] }
  | { kind: 'like'; field: FieldPath; pattern: string; position: number };

export type SelectItem =
  | { kind: 'field'; field: FieldPath }
  | { kind: 'count'; field?: FieldPath; position: number }
  | { kind: 'fields'; which: 'ALL' | 'STANDARD' | 'CUSTOM'; position: number };

export interface OrderItem {
  field: FieldPath;
  descending: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  text: string;
  select: SelectItem[];
  from: { name: string; position: number };
  where?: SoqlCondition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'ORDER',
  'BY',
  'LIMIT',
  'OFFSET',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ASC',
  'DESC',
  'NULLS',
  'NULL',
  'TRUE',
  'FALSE',
  'GROUP',
  'HAVING',
]);

const RANGE_DATE_LITERALS = new Set(['TODAY', 'YESTERDAY', 'TOMORROW']);
const N_DATE_LITERALS = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS']);

/** Largest OFFSET Salesforce accepts. */
export const MAX_OFFSET = 2000;

class Parser {
  private index = 0;
  private readonly tokens: Token[];

  constructor(private readonly soql: string) {
    this.tokens = tokenize(soql);
  }

  parse(): SoqlQuery {
    this.expectKeyword('SELECT');
    const select = this.parseSelectList();
    this.expectKeyword('FROM');
    const fromToken = this.next();
    if (fromToken.kind !== 'ident' || RESERVED.has(fromToken.value.toUpperCase())) {
      throw this.unexpected(fromToken);
    }
    const query: SoqlQuery = {
      text: this.soql,
      select,
      from: { name: fromToken.value, position: fromToken.position },
      orderBy: [],
    };
    if (this.isKeyword('WHERE')) {
      this.next();
      query.where = this.parseCondition();
    }
    if (this.isKeyword('GROUP') || this.isKeyword('HAVING')) {
      throw syntaxError(this.soql, this.peek().position, 'GROUP BY is not supported by this sandbox');
    }
    if (this.isKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY');
      query.orderBy = this.parseOrderBy();
    }
    if (this.isKeyword('LIMIT')) {
      this.next();
      query.limit = this.parseNonNegativeInteger();
    }
    if (this.isKeyword('OFFSET')) {
      this.next();
      const offsetToken = this.peek();
      query.offset = this.parseNonNegativeInteger();
      if (query.offset > MAX_OFFSET) {
        throw syntaxError(
          this.soql,
          offsetToken.position,
          `Maximum SOQL offset allowed is ${MAX_OFFSET}`,
          'NUMBER_OUTSIDE_VALID_RANGE',
        );
      }
    }
    const trailing = this.peek();
    if (trailing.kind !== 'eof') throw this.unexpected(trailing);
    return query;
  }

  private parseSelectList(): SelectItem[] {
    const items: SelectItem[] = [];
    for (;;) {
      const token = this.peek();
      const upper = token.kind === 'ident' ? token.value.toUpperCase() : '';
      if (upper === 'COUNT' && this.peek(1).text === '(') {
        this.next();
        this.next();
        let field: FieldPath | undefined;
        if (this.peek().text !== ')') field = this.parseFieldPath();
        this.expectPunct(')');
        items.push({ kind: 'count', field, position: token.position });
      } else if (upper === 'FIELDS' && this.peek(1).text === '(') {
        this.next();
        this.next();
        const which = this.next();
        const whichUpper = which.value.toUpperCase();
        if (which.kind !== 'ident' || !['ALL', 'STANDARD', 'CUSTOM'].includes(whichUpper)) {
          throw this.unexpected(which);
        }
        this.expectPunct(')');
        items.push({
          kind: 'fields',
          which: whichUpper as 'ALL' | 'STANDARD' | 'CUSTOM',
          position: token.position,
        });
      } else if (token.text === '(') {
        throw syntaxError(
          this.soql,
          token.position,
          'Relationship subqueries are not supported by this sandbox',
        );
      } else {
        items.push({ kind: 'field', field: this.parseFieldPath() });
      }
      if (this.peek().text !== ',') break;
      this.next();
    }
    return items;
  }

  private parseFieldPath(): FieldPath {
    const first = this.next();
    if (first.kind !== 'ident' || RESERVED.has(first.value.toUpperCase())) throw this.unexpected(first);
    const path = [first.value];
    while (this.peek().text === '.') {
      this.next();
      const part = this.next();
      if (part.kind !== 'ident') throw this.unexpected(part);
      path.push(part.value);
    }
    return { path, position: first.position };
  }

  /** OR-level: operands joined by one logical operator; a different one at the same level needs parentheses. */
  private parseCondition(): SoqlCondition {
    const first = this.parseUnary();
    const operands = [first];
    let joiner: 'AND' | 'OR' | undefined;
    while (this.isKeyword('AND') || this.isKeyword('OR')) {
      const token = this.next();
      const upper = token.value.toUpperCase() as 'AND' | 'OR';
      if (joiner && joiner !== upper) throw this.unexpected(token);
      joiner = upper;
      operands.push(this.parseUnary());
    }
    if (!joiner) return first;
    return { kind: joiner === 'AND' ? 'and' : 'or', operands };
  }

  private parseUnary(): SoqlCondition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', operand: this.parseUnary() };
    }
    if (this.peek().text === '(') {
      this.next();
      const inner = this.parseCondition();
      this.expectPunct(')');
      return inner;
    }
    return this.parseComparison();
  }

  private parseComparison(): SoqlCondition {
    const field = this.parseFieldPath();
    const token = this.next();
    if (token.kind === 'op') {
      return {
        kind: 'compare',
        field,
        operator: token.value as ComparisonOperator,
        value: this.parseLiteral(),
      };
    }
    const upper = token.kind === 'ident' ? token.value.toUpperCase() : '';
    if (upper === 'LIKE') {
      const pattern = this.next();
      if (pattern.kind !== 'string') throw this.unexpected(pattern);
      return { kind: 'like', field, pattern: pattern.value, position: pattern.position };
    }
    if (upper === 'IN' || (upper === 'NOT' && this.isKeyword('IN'))) {
      if (upper === 'NOT') this.next();
      this.expectPunct('(');
      const values: SoqlLiteral[] = [this.parseLiteral()];
      while (this.peek().text === ',') {
        this.next();
        values.push(this.parseLiteral());
      }
      this.expectPunct(')');
      return { kind: 'in', field, negated: upper === 'NOT', values };
    }
    throw this.unexpected(token);
  }

  private parseLiteral(): SoqlLiteral {
    const token = this.next();
    const position = token.position;
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.value, position };
      case 'number':
        return { kind: 'number', value: Number(token.value), position };
      case 'date':
        if (Number.isNaN(Date.parse(`${token.value}T00:00:00Z`))) throw this.unexpected(token);
        return { kind: 'date', value: token.value, position };
      case 'datetime': {
        const epochMs = parseDateTime(token.value);
        if (epochMs === undefined) throw this.unexpected(token);
        return { kind: 'datetime', epochMs, text: token.value, position };
      }
      case 'ident': {
        const upper = token.value.toUpperCase();
        if (upper === 'NULL') return { kind: 'null', position };
        if (upper === 'TRUE' || upper === 'FALSE')
          return { kind: 'boolean', value: upper === 'TRUE', position };
        if (RANGE_DATE_LITERALS.has(upper)) return { kind: 'dateLiteral', name: upper, n: 0, position };
        if (N_DATE_LITERALS.has(upper)) {
          this.expectPunct(':');
          const n = this.parseNonNegativeInteger();
          return { kind: 'dateLiteral', name: upper, n, position };
        }
        throw this.unexpected(token);
      }
      default:
        throw this.unexpected(token);
    }
  }

  private parseOrderBy(): OrderItem[] {
    const items: OrderItem[] = [];
    for (;;) {
      const field = this.parseFieldPath();
      let descending = false;
      if (this.isKeyword('ASC') || this.isKeyword('DESC'))
        descending = this.next().value.toUpperCase() === 'DESC';
      // Salesforce's default: nulls first when ascending, nulls last when descending.
      let nullsLast = descending;
      if (this.isKeyword('NULLS')) {
        this.next();
        const which = this.next();
        const whichUpper = which.value.toUpperCase();
        if (whichUpper !== 'FIRST' && whichUpper !== 'LAST') throw this.unexpected(which);
        nullsLast = whichUpper === 'LAST';
      }
      items.push({ field, descending, nullsLast });
      if (this.peek().text !== ',') break;
      this.next();
    }
    return items;
  }

  private parseNonNegativeInteger(): number {
    const token = this.next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.value)) throw this.unexpected(token);
    return Number(token.value);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  private isKeyword(keyword: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.value.toUpperCase() === keyword;
  }

  private expectKeyword(keyword: string): void {
    const token = this.next();
    if (token.kind !== 'ident' || token.value.toUpperCase() !== keyword) throw this.unexpected(token);
  }

  private expectPunct(punct: string): void {
    const token = this.next();
    if (token.text !== punct) throw this.unexpected(token);
  }

  private unexpected(token: Token): SoqlError {
    return syntaxError(
      this.soql,
      token.position,
      `unexpected token: ${token.kind === 'eof' ? '<EOF>' : token.text}`,
    );
  }
}

export function parseSoql(soql: string): SoqlQuery {
  return new Parser(soql).parse();
}

// ---------------------------------------------------------------------------------------------------------------
// Date and time values

const DATETIME_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Parses the datetime forms SOQL and the REST API use ('...Z', '...+00:00', '....000+0000'); undefined if invalid. */
export function parseDateTime(text: string): number | undefined {
  const match = DATETIME_PARTS.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone, sign, zoneHours, zoneMinutes] = match;
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    fraction ? Number(fraction.padEnd(3, '0')) : 0,
  );
  if (
    Number.isNaN(utc) ||
    Number(month) > 12 ||
    Number(day) > 31 ||
    Number(hour) > 23 ||
    Number(minute) > 59
  ) {
    return undefined;
  }
  if (zone === 'Z') return utc;
  const offsetMs = (Number(zoneHours) * 60 + Number(zoneMinutes)) * 60_000;
  return sign === '+' ? utc - offsetMs : utc + offsetMs;
}

/** The REST API's datetime output format, e.g. 2026-01-01T00:00:00.000+0000. */
export function formatDateTime(date: Date | number): string {
  return new Date(date).toISOString().replace('Z', '+0000');
}

const DAY_MS = 86_400_000;

function startOfUtcDay(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS;
}

/** [start, end) of a date literal such as TODAY or LAST_N_DAYS:7, in UTC (the sandbox's org time zone). */
function dateLiteralRange(literal: { name: string; n: number }, nowMs: number): [number, number] {
  const today = startOfUtcDay(nowMs);
  switch (literal.name) {
    case 'TODAY':
      return [today, today + DAY_MS];
    case 'YESTERDAY':
      return [today - DAY_MS, today];
    case 'TOMORROW':
      return [today + DAY_MS, today + 2 * DAY_MS];
    case 'LAST_N_DAYS':
      return [today - literal.n * DAY_MS, today + DAY_MS];
    case 'NEXT_N_DAYS':
      return [today + DAY_MS, today + (literal.n + 1) * DAY_MS];
    default:
      throw new Error(`unknown date literal ${literal.name}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Schema the evaluator checks queries against

export type SoqlFieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'email'
  | 'phone'
  | 'url'
  | 'textarea'
  | 'picklist'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'double'
  | 'int'
  | 'currency';

export interface SoqlField {
  name: string;
  type: SoqlFieldType;
  custom: boolean;
  /** Whether WHERE may name it (describe's `filterable`); absent: it may. */
  filterable?: boolean;
  /** For reference fields: the parent object and the relationship name used in paths (AccountId → Account). */
  referenceTo?: string[];
  relationshipName?: string;
}

export interface SoqlObject {
  name: string;
  fields: SoqlField[];
}

export type SoqlRow = Record<string, unknown>;

export interface SoqlDataSource {
  object(name: string): SoqlObject | undefined;
  /** Finds a parent record by id for relationship paths (Account.Name). */
  lookup(id: string): { objectName: string; row: SoqlRow } | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Binding: checks names and types against the schema, the way Salesforce rejects a query before running it.

interface BoundField {
  /** Relationship hops before the final field, e.g. [AccountId field] for Account.Name. */
  hops: SoqlField[];
  field: SoqlField;
  /** Canonical path, e.g. ['Account', 'Name']. */
  path: string[];
}

type BoundSelect =
  | { kind: 'field'; bound: BoundField }
  | { kind: 'count' }
  | { kind: 'countField'; bound: BoundField };

export interface CompiledQuery {
  object: SoqlObject;
  isCountOnly: boolean;
  /**
   * Where every matching row must hold one of a few values of one field of the object itself (`WHERE f IN (…)` or
   * `f = …`, alone or ANDed with more): that field and the values (lower-cased, as text compares), so the caller can
   * answer from an index on the field instead of handing every row to `execute`. Absent for any other WHERE.
   */
  selectiveFilter?: { field: string; keys: string[] };
  execute(rows: SoqlRow[]): SoqlExecution;
}

export interface SoqlExecution {
  totalSize: number;
  /** Projected records (without `attributes` beyond what {@link ProjectOptions} adds). */
  records: SoqlRow[];
}

export interface CompileOptions {
  nowMs: number;
  /** Builds a record's `attributes.url` (the API version of the request is in it). */
  recordUrl(objectName: string, id: string): string;
}

const TEXT_TYPES = new Set<SoqlFieldType>(['string', 'email', 'phone', 'url', 'textarea', 'picklist']);
/** Text that an index can hold by lower-cased value (long text areas cannot even be filtered on). */
const INDEXABLE_TEXT_TYPES = new Set<SoqlFieldType>(['string', 'email', 'phone', 'url', 'picklist']);

/** Whether SOQL may filter on the field (describe's `filterable`; long text areas, for one, are not). */
export function isFilterable(field: SoqlField): boolean {
  return field.filterable !== false;
}
const ID_PATTERN = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

function findField(object: SoqlObject, name: string): SoqlField | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((field) => field.name.toLowerCase() === lower);
}

function findRelationship(object: SoqlObject, name: string): SoqlField | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((field) => field.relationshipName?.toLowerCase() === lower);
}

export function compileSoql(
  query: SoqlQuery,
  source: SoqlDataSource,
  options: CompileOptions,
): CompiledQuery {
  const object = source.object(query.from.name);
  if (!object) {
    throw syntaxError(
      query.text,
      query.from.position,
      `sObject type '${query.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      'INVALID_TYPE',
    );
  }

  const bindField = (fieldPath: FieldPath): BoundField => {
    let current = object;
    const hops: SoqlField[] = [];
    const canonical: string[] = [];
    for (let i = 0; i < fieldPath.path.length - 1; i++) {
      const relationship = findRelationship(current, fieldPath.path[i]);
      const parentName = relationship?.referenceTo?.[0];
      const parent = parentName ? source.object(parentName) : undefined;
      if (!relationship || !parent) {
        throw syntaxError(
          query.text,
          fieldPath.position,
          `Didn't understand relationship '${fieldPath.path[i]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
          'INVALID_FIELD',
        );
      }
      hops.push(relationship);
      canonical.push(relationship.relationshipName as string);
      current = parent;
    }
    const lastName = fieldPath.path[fieldPath.path.length - 1];
    const field = findField(current, lastName);
    if (!field) {
      throw syntaxError(
        query.text,
        fieldPath.position,
        `No such column '${lastName}' on entity '${current.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        'INVALID_FIELD',
      );
    }
    canonical.push(field.name);
    return { hops, field, path: canonical };
  };

  // SELECT list
  const selects: BoundSelect[] = [];
  const seen = new Set<string>();
  for (const item of query.select) {
    if (item.kind === 'count') {
      if (query.select.length > 1 && !item.field) {
        throw syntaxError(query.text, item.position, 'COUNT() must be the only element in the SELECT list.');
      }
      selects.push(item.field ? { kind: 'countField', bound: bindField(item.field) } : { kind: 'count' });
      continue;
    }
    const bounds =
      item.kind === 'fields'
        ? object.fields
            .filter((field) => item.which === 'ALL' || (item.which === 'CUSTOM') === field.custom)
            .map((field) => ({ hops: [], field, path: [field.name] }))
        : [bindField(item.field)];
    if (
      item.kind === 'fields' &&
      item.which !== 'STANDARD' &&
      (query.limit === undefined || query.limit > 200)
    ) {
      throw syntaxError(
        query.text,
        item.position,
        'The SOQL FIELDS function must have a LIMIT of at most 200',
      );
    }
    for (const bound of bounds) {
      const key = bound.path.join('.').toLowerCase();
      if (seen.has(key)) {
        if (item.kind === 'fields') continue;
        throw syntaxError(
          query.text,
          item.field.position,
          `duplicate field selected: ${bound.path.join('.')}`,
        );
      }
      seen.add(key);
      selects.push({ kind: 'field', bound });
    }
  }
  const isCountOnly = selects.length === 1 && selects[0].kind === 'count';
  const aggregates = selects.filter((select) => select.kind === 'countField');
  if (aggregates.length > 0 && aggregates.length !== selects.length) {
    throw syntaxError(
      query.text,
      query.from.position,
      'Field must be grouped or aggregated: this sandbox supports aggregate queries without GROUP BY only',
    );
  }

  /** A field in WHERE: as bindField, but Salesforce refuses one it cannot filter on before running anything. */
  const bindFilterField = (fieldPath: FieldPath): BoundField => {
    const bound = bindField(fieldPath);
    if (!isFilterable(bound.field)) {
      throw syntaxError(
        query.text,
        fieldPath.position,
        `field '${bound.path.join('.')}' can not be filtered in a query call`,
        'INVALID_FIELD',
      );
    }
    return bound;
  };

  const predicate = query.where ? bindCondition(query.where) : () => true;
  const selectiveFilter = query.where ? selectiveFilterOf(query.where) : undefined;

  /** The `IN`/`=` on a plain text field that every matching row must satisfy, if the WHERE has one. */
  function selectiveFilterOf(condition: SoqlCondition): CompiledQuery['selectiveFilter'] {
    if (condition.kind === 'and') {
      for (const operand of condition.operands) {
        const found = selectiveFilterOf(operand);
        if (found) return found;
      }
      return undefined;
    }
    const values =
      condition.kind === 'in' && !condition.negated
        ? condition.values
        : condition.kind === 'compare' && condition.operator === '='
          ? [condition.value]
          : undefined;
    if (
      values === undefined ||
      condition.kind === 'not' ||
      condition.kind === 'or' ||
      condition.kind === 'like'
    )
      return undefined;
    if (condition.field.path.length !== 1) return undefined;
    const field = findField(object as SoqlObject, condition.field.path[0]);
    if (!field || !INDEXABLE_TEXT_TYPES.has(field.type)) return undefined;
    if (!values.every((value) => value.kind === 'string')) return undefined;
    return {
      field: field.name,
      keys: values.map((value) => (value as { value: string }).value.toLowerCase()),
    };
  }

  function bindCondition(condition: SoqlCondition): (row: SoqlRow) => boolean {
    switch (condition.kind) {
      case 'and': {
        const parts = condition.operands.map(bindCondition);
        return (row) => parts.every((part) => part(row));
      }
      case 'or': {
        const parts = condition.operands.map(bindCondition);
        return (row) => parts.some((part) => part(row));
      }
      case 'not': {
        const inner = bindCondition(condition.operand);
        return (row) => !inner(row);
      }
      case 'like': {
        const bound = bindFilterField(condition.field);
        if (!TEXT_TYPES.has(bound.field.type)) {
          throw syntaxError(
            query.text,
            condition.position,
            `invalid operator on ${bound.field.type} field: LIKE`,
            'INVALID_QUERY_FILTER_OPERATOR',
          );
        }
        const regex = likeToRegExp(condition.pattern);
        return (row) => {
          const value = readPath(row, bound, source);
          return typeof value === 'string' && regex.test(value);
        };
      }
      case 'compare': {
        const bound = bindFilterField(condition.field);
        const literal = checkLiteral(bound, condition.value);
        const { operator } = condition;
        if (literal.kind === 'dateLiteral') {
          const [start, end] = dateLiteralRange(literal, options.nowMs);
          return (row) => {
            const value = comparable(bound.field, readPath(row, bound, source));
            if (typeof value !== 'number') return operator === '!=';
            switch (operator) {
              case '=':
                return value >= start && value < end;
              case '!=':
                return value < start || value >= end;
              case '<':
                return value < start;
              case '<=':
                return value < end;
              case '>':
                return value >= end;
              case '>=':
                return value >= start;
            }
          };
        }
        const target = literalComparable(bound.field, literal);
        if (target === null && operator !== '=' && operator !== '!=') return () => false;
        return (row) => {
          const value = comparable(bound.field, readPath(row, bound, source));
          if (target === null || value === null) {
            const bothNull = target === null && value === null;
            if (operator === '=') return bothNull;
            if (operator === '!=') return !bothNull;
            return false;
          }
          const order = compareValues(value, target);
          switch (operator) {
            case '=':
              return order === 0;
            case '!=':
              return order !== 0;
            case '<':
              return order < 0;
            case '<=':
              return order <= 0;
            case '>':
              return order > 0;
            case '>=':
              return order >= 0;
          }
        };
      }
      case 'in': {
        const bound = bindFilterField(condition.field);
        const targets = condition.values.map((literal) => {
          const checked = checkLiteral(bound, literal);
          if (checked.kind === 'dateLiteral') {
            throw syntaxError(
              query.text,
              literal.position,
              'Date literals are not supported in IN by this sandbox',
            );
          }
          return literalComparable(bound.field, checked);
        });
        const set = new Set(targets);
        return (row) => {
          const value = comparable(bound.field, readPath(row, bound, source));
          return set.has(value) !== condition.negated;
        };
      }
    }
  }

  function checkLiteral(bound: BoundField, literal: SoqlLiteral): SoqlLiteral {
    const { field } = bound;
    if (literal.kind === 'null') return literal;
    const fail = (expected: string) =>
      syntaxError(
        query.text,
        literal.position,
        `value of filter criterion for field '${bound.path.join('.')}' must be of type ${expected} and should not be enclosed in quotes`,
        'INVALID_QUERY_FILTER_OPERATOR',
      );
    switch (field.type) {
      case 'datetime':
        if (literal.kind !== 'datetime' && literal.kind !== 'dateLiteral') throw fail('dateTime');
        return literal;
      case 'date':
        if (literal.kind !== 'date' && literal.kind !== 'dateLiteral') throw fail('date');
        return literal;
      case 'boolean':
        if (literal.kind !== 'boolean') throw fail('boolean');
        return literal;
      case 'double':
      case 'int':
      case 'currency':
        if (literal.kind !== 'number') throw fail(field.type === 'int' ? 'int' : 'double');
        return literal;
      case 'id':
      case 'reference':
        if (literal.kind !== 'string') {
          throw syntaxError(
            query.text,
            literal.position,
            `value of filter criterion for field '${bound.path.join('.')}' must be of type id and should be enclosed in quotes`,
            'INVALID_QUERY_FILTER_OPERATOR',
          );
        }
        if (!ID_PATTERN.test(literal.value)) {
          throw syntaxError(
            query.text,
            literal.position,
            `invalid ID field: ${literal.value}`,
            'INVALID_QUERY_FILTER_OPERATOR',
          );
        }
        return literal;
      default:
        if (literal.kind !== 'string') {
          throw syntaxError(
            query.text,
            literal.position,
            `value of filter criterion for field '${bound.path.join('.')}' must be of type string and should be enclosed in quotes`,
            'INVALID_QUERY_FILTER_OPERATOR',
          );
        }
        return literal;
    }
  }

  // ORDER BY: keys computed once per row, then a stable sort.
  const orderBounds = query.orderBy.map((item) => ({ item, bound: bindField(item.field) }));

  const project = (row: SoqlRow): SoqlRow => {
    const out: SoqlRow = {
      attributes: { type: object.name, url: options.recordUrl(object.name, String(row.Id)) },
    };
    for (const select of selects) {
      if (select.kind !== 'field') continue;
      writeProjection(out, row, select.bound, source, options);
    }
    return out;
  };

  return {
    object,
    isCountOnly,
    ...(selectiveFilter ? { selectiveFilter } : {}),
    execute(rows: SoqlRow[]): SoqlExecution {
      let matched = rows.filter(predicate);
      if (orderBounds.length > 0) {
        const keyed = matched.map((row, index) => ({
          row,
          index,
          keys: orderBounds.map(({ bound }) => comparable(bound.field, readPath(row, bound, source))),
        }));
        keyed.sort((a, b) => {
          for (let i = 0; i < orderBounds.length; i++) {
            const { item } = orderBounds[i];
            const left = a.keys[i];
            const right = b.keys[i];
            if (left === null || right === null) {
              if (left === right) continue;
              const nullFirst = left === null ? -1 : 1;
              return item.nullsLast ? -nullFirst : nullFirst;
            }
            const order = compareValues(left, right);
            if (order !== 0) return item.descending ? -order : order;
          }
          return a.index - b.index;
        });
        matched = keyed.map((entry) => entry.row);
      }
      const offset = query.offset ?? 0;
      const limited = matched.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
      if (isCountOnly) return { totalSize: limited.length, records: [] };
      if (aggregates.length > 0) {
        const aggregate: SoqlRow = { attributes: { type: 'AggregateResult' } };
        aggregates.forEach((select, index) => {
          if (select.kind !== 'countField') return;
          aggregate[`expr${index}`] = limited.filter(
            (row) => readPath(row, select.bound, source) != null,
          ).length;
        });
        return { totalSize: 1, records: [aggregate] };
      }
      return { totalSize: limited.length, records: limited.map(project) };
    },
  };
}

/** Convenience: parse + compile. */
export function prepareSoql(soql: string, source: SoqlDataSource, options: CompileOptions): CompiledQuery {
  return compileSoql(parseSoql(soql), source, options);
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation helpers

type Comparable = string | number | boolean | null;

function readPath(row: SoqlRow, bound: BoundField, source: SoqlDataSource): unknown {
  let current: SoqlRow | undefined = row;
  for (const hop of bound.hops) {
    const parentId: unknown = current?.[hop.name];
    current = typeof parentId === 'string' ? source.lookup(parentId)?.row : undefined;
    if (!current) return null;
  }
  return current[bound.field.name] ?? null;
}

/** Normalises a stored value so that SOQL's comparison rules become plain JS comparisons. */
function comparable(field: SoqlField, value: unknown): Comparable {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case 'datetime':
      return typeof value === 'string' ? (parseDateTime(value) ?? null) : null;
    case 'date':
      return typeof value === 'string' ? value : null;
    case 'boolean':
      return value === true;
    case 'double':
    case 'int':
    case 'currency':
      return typeof value === 'number' ? value : Number(value);
    case 'id':
    case 'reference':
      // 15- and 18-character forms of one id are equal; the 15-character form is case-sensitive.
      return String(value).slice(0, 15);
    default:
      // Text comparison in SOQL is case-insensitive.
      return String(value).toLowerCase();
  }
}

function literalComparable(field: SoqlField, literal: SoqlLiteral): Comparable {
  switch (literal.kind) {
    case 'null':
      return null;
    case 'datetime':
      return literal.epochMs;
    case 'date':
      return literal.value;
    case 'boolean':
      return literal.value;
    case 'number':
      return literal.value;
    case 'string':
      return field.type === 'id' || field.type === 'reference'
        ? literal.value.slice(0, 15)
        : literal.value.toLowerCase();
    default:
      return null;
  }
}

function compareValues(left: Comparable, right: Comparable): number {
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' && typeof right === 'boolean') return Number(left) - Number(right);
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** LIKE: % any run, _ one character, case-insensitive; \% and \_ are literal. */
function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      source += pattern[i + 1];
      i++;
    } else if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

function writeProjection(
  out: SoqlRow,
  row: SoqlRow,
  bound: BoundField,
  source: SoqlDataSource,
  options: CompileOptions,
): void {
  let target = out;
  let current: SoqlRow | undefined = row;
  for (const hop of bound.hops) {
    const relationshipName = hop.relationshipName as string;
    const parentId: unknown = current?.[hop.name];
    const parent = typeof parentId === 'string' ? source.lookup(parentId) : undefined;
    if (!parent) {
      // Salesforce returns the relationship itself as null when the lookup is empty.
      if (!(relationshipName in target)) target[relationshipName] = null;
      return;
    }
    const existing = target[relationshipName];
    if (existing && typeof existing === 'object') {
      target = existing as SoqlRow;
    } else {
      const nested: SoqlRow = {
        attributes: {
          type: parent.objectName,
          url: options.recordUrl(parent.objectName, String(parent.row.Id)),
        },
      };
      target[relationshipName] = nested;
      target = nested;
    }
    current = parent.row;
  }
  target[bound.field.name] = current?.[bound.field.name] ?? null;
}
