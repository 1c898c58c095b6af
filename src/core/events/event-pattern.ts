import { BadRequestError } from '../errors';

/**
 * EventBridge event patterns, compiled to a predicate over an event (its envelope, as JSON). Pure, so
 * the local bus routes exactly as an EventBridge rule would, and tests can check rules without a bus.
 *
 * Semantics, as EventBridge's:
 * - A pattern is a JSON object whose fields mirror the event's. A field whose pattern is an object
 *   matches nested fields; a field whose pattern is an array is a leaf: the event's value must match
 *   one of the array's elements. Every field of the pattern must match (AND); fields the pattern does
 *   not name are ignored.
 * - The event is flattened: where a value on the way is an array, each of its elements is followed,
 *   and a leaf matches if any of the values found matches. Only scalar values (string, number,
 *   boolean, null) are matched; a leaf pattern never matches an object.
 * - Elements of a leaf array: a literal (exact match; numbers compare as numbers, `null` matches JSON
 *   null) or an object with one operator: `prefix`, `suffix`, `equals-ignore-case`, `wildcard` (`*`
 *   matches any run of characters), `anything-but` (a literal, an array of literals, or
 *   `{prefix}`/`{suffix}`/`{equals-ignore-case}`: the field has a value that is not one of them),
 *   `numeric` (`[">", 0, "<=", 5]`, up to two comparisons, numbers only) and `exists` (`true`: the
 *   field has a scalar value; `false`: it has none).
 * - `"$or": [pattern, pattern, ...]` at any level: any of the patterns, with the level's other fields.
 *
 * Anything else (an empty pattern or array, an unknown operator, `cidr`) is refused when compiling,
 * with a {@link BadRequestError} (code `invalid_event_pattern`) naming where.
 */

export type EventPatternLiteral = string | number | boolean | null;

/** An event pattern as JSON (see the module comment for the semantics). */
export interface EventPattern {
  readonly [field: string]: EventPattern | readonly unknown[];
}

/** A compiled pattern: whether an event (JSON) matches it. */
export type EventMatcher = (event: unknown) => boolean;

/** Whether `event` matches `pattern` (compiles it each call; keep the result of {@link compileEventPattern} to reuse it). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

/** Checks a pattern and compiles it; throws {@link BadRequestError} naming what is wrong. */
export function compileEventPattern(pattern: unknown): EventMatcher {
  if (!isObject(pattern) || Object.keys(pattern).length === 0) {
    throw invalid('', 'a pattern must be a non-empty JSON object');
  }
  const test = compileLevel(pattern, []);
  return (event) => test(event);
}

/** Tests the values found at one field path (after flattening arrays); empty when the field is absent. */
type LeafTest = (values: readonly EventPatternLiteral[]) => boolean;

function compileLevel(pattern: Readonly<Record<string, unknown>>, path: readonly string[]): EventMatcher {
  const tests: EventMatcher[] = [];
  for (const [field, value] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw invalid(where(path, field), '$or takes an array of at least two patterns');
      }
      const alternatives = value.map((alternative, i) => {
        if (!isObject(alternative) || Object.keys(alternative).length === 0) {
          throw invalid(`${where(path, field)}[${i}]`, 'each $or alternative must be a non-empty object');
        }
        return compileLevel(alternative, path);
      });
      tests.push((event) => alternatives.some((test) => test(event)));
      continue;
    }
    const fieldPath = [...path, field];
    if (Array.isArray(value)) {
      const leaf = compileLeaf(value, where(path, field));
      tests.push((event) => leaf(valuesAt(event, fieldPath)));
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0)
        throw invalid(where(path, field), 'an empty object matches nothing');
      tests.push(compileLevel(value, fieldPath));
    } else {
      throw invalid(where(path, field), 'must be an array of values or an object of fields');
    }
  }
  return (event) => tests.every((test) => test(event));
}

/**
 * The scalar values at `path` in `event`, following every element of arrays on the way (EventBridge
 * flattens arrays); objects at the end of the path are not values.
 */
export function valuesAt(event: unknown, path: readonly string[]): EventPatternLiteral[] {
  let current: unknown[] = [event];
  for (const field of path) {
    const next: unknown[] = [];
    for (const node of current) {
      if (isObject(node) && Object.hasOwn(node, field)) flattenInto(node[field], next);
    }
    current = next;
  }
  return current.filter(isLiteral);
}

function flattenInto(value: unknown, into: unknown[]): void {
  if (Array.isArray(value)) for (const item of value) flattenInto(item, into);
  else into.push(value);
}

function compileLeaf(alternatives: readonly unknown[], at: string): LeafTest {
  if (alternatives.length === 0) throw invalid(at, 'an empty array matches nothing');
  const tests = alternatives.map((alternative, i) => compileAlternative(alternative, `${at}[${i}]`));
  return (values) => tests.some((test) => test(values));
}

/** One element of a leaf array: a literal or a one-operator object. */
function compileAlternative(alternative: unknown, at: string): LeafTest {
  if (isLiteral(alternative)) return (values) => values.some((value) => literalEquals(value, alternative));
  if (!isObject(alternative)) throw invalid(at, 'must be a literal or an operator object');
  const keys = Object.keys(alternative);
  if (keys.length !== 1) throw invalid(at, 'an operator object has exactly one operator');
  const operator = keys[0] as string;
  const operand = alternative[operator];
  const opAt = `${at}.${operator}`;
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') throw invalid(opAt, 'exists takes true or false');
      return operand ? (values) => values.length > 0 : (values) => values.length === 0;
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard': {
      const test = stringTest(operator, operand, opAt);
      return (values) => values.some((value) => typeof value === 'string' && test(value));
    }
    case 'anything-but':
      return compileAnythingBut(operand, opAt);
    case 'numeric': {
      const test = compileNumeric(operand, opAt);
      return (values) => values.some((value) => typeof value === 'number' && test(value));
    }
    default:
      throw invalid(opAt, `unsupported operator "${operator}"`);
  }
}

/** `prefix`, `suffix`, `equals-ignore-case` and `wildcard` over a string value. */
function stringTest(operator: string, operand: unknown, at: string): (value: string) => boolean {
  if (operator === 'prefix' || operator === 'suffix') {
    // `{"prefix": {"equals-ignore-case": "ab"}}`: a case-insensitive prefix.
    let text = operand;
    let fold = false;
    if (isObject(operand) && Object.keys(operand).length === 1 && 'equals-ignore-case' in operand) {
      text = operand['equals-ignore-case'];
      fold = true;
    }
    if (typeof text !== 'string') throw invalid(at, `${operator} takes a string`);
    const wanted = fold ? text.toLowerCase() : text;
    const norm = (value: string) => (fold ? value.toLowerCase() : value);
    return operator === 'prefix'
      ? (value) => norm(value).startsWith(wanted)
      : (value) => norm(value).endsWith(wanted);
  }
  if (typeof operand !== 'string') throw invalid(at, `${operator} takes a string`);
  if (operator === 'equals-ignore-case') {
    const wanted = operand.toLowerCase();
    return (value) => value.toLowerCase() === wanted;
  }
  return compileWildcard(operand, at);
}

/** `*` matches any run of characters (`\*` a literal star); everything else matches itself. */
function compileWildcard(glob: string, at: string): (value: string) => boolean {
  if (glob.includes('**')) throw invalid(at, 'wildcard does not take consecutive *');
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '\\' && glob[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (char === '*') source += '[\\s\\S]*';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 'u');
  return (value) => regex.test(value);
}

function compileAnythingBut(operand: unknown, at: string): LeafTest {
  let excluded: (value: EventPatternLiteral) => boolean;
  if (isLiteral(operand) && operand !== null) {
    excluded = (value) => literalEquals(value, operand);
  } else if (Array.isArray(operand)) {
    if (operand.length === 0 || !operand.every((item) => isLiteral(item) && item !== null)) {
      throw invalid(at, 'anything-but takes a non-empty array of strings or numbers');
    }
    const list = operand as EventPatternLiteral[];
    excluded = (value) => list.some((item) => literalEquals(value, item));
  } else if (isObject(operand) && Object.keys(operand).length === 1) {
    const [operator] = Object.keys(operand) as [string];
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(operator)) {
      throw invalid(at, `anything-but does not take "${operator}"`);
    }
    const test = stringTest(operator, operand[operator], `${at}.${operator}`);
    excluded = (value) => typeof value === 'string' && test(value);
  } else {
    throw invalid(at, 'anything-but takes a value, an array of values or one string operator');
  }
  // The field must have a value, and one of its values must not be excluded.
  return (values) => values.some((value) => !excluded(value));
}

const COMPARISONS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function compileNumeric(operand: unknown, at: string): (value: number) => boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw invalid(at, 'numeric takes one or two comparisons: [">", 0] or [">", 0, "<=", 5]');
  }
  const tests: Array<(value: number) => boolean> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    const compare = typeof op === 'string' ? COMPARISONS[op] : undefined;
    if (compare === undefined) throw invalid(at, `unknown comparison ${JSON.stringify(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw invalid(at, `${String(op)} takes a finite number`);
    }
    tests.push((value) => compare(value, bound));
  }
  if (tests.length === 2 && !(isLower(operand[0]) && isUpper(operand[2]))) {
    throw invalid(at, 'a numeric range is a lower bound (> or >=) then an upper bound (< or <=)');
  }
  return (value) => tests.every((test) => test(value));
}

function isLower(op: unknown): boolean {
  return op === '>' || op === '>=';
}

function isUpper(op: unknown): boolean {
  return op === '<' || op === '<=';
}

function literalEquals(value: EventPatternLiteral, wanted: EventPatternLiteral): boolean {
  return value === wanted;
}

function isLiteral(value: unknown): value is EventPatternLiteral {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function where(path: readonly string[], field: string): string {
  return [...path, field].join('.');
}

function invalid(at: string, problem: string): BadRequestError {
  return new BadRequestError(`Invalid event pattern${at === '' ? '' : ` at ${at}`}: ${problem}`, {
    code: 'invalid_event_pattern',
  });
}
