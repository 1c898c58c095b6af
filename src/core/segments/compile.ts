import type { z } from 'zod';
import type {
  NumberTest,
  PropertyFilter,
  SegmentAst,
  SegmentNode,
  TimePoint,
  ValueTest,
  Window,
} from './ast';
import {
  AggregateCondition,
  CONDITION_KEYS,
  type ConditionKey,
  ConsentCondition,
  type DateValue,
  durationMs,
  EventCondition,
  type NumberCondition,
  type PropertyCondition,
  SeenCondition,
  SegmentReference,
  TraitCondition,
  type WindowDefinition,
} from './definition';
import { InvalidSegmentError, type SegmentIssue } from './errors';

/** Deepest nesting of `all` / `any` / `not` in one definition. */
export const MAX_DEPTH = 10;
/** Most conditions in one `all` / `any`. */
export const MAX_CHILDREN = 50;
/** Most leaf conditions once referenced segments are inlined (each becomes part of one query). */
export const MAX_LEAVES = 200;

/**
 * Finds the definition of a segment by id (`undefined` when there is none). Given by the caller:
 * the core does no I/O.
 */
export type SegmentLookup = (id: string) => unknown | Promise<unknown>;

export interface CompileOptions {
  /** Resolves `{ "segment": { "id" } }` references. Without it, a reference is an error. */
  readonly lookup?: SegmentLookup;
  /** The id of the segment being compiled, so a reference back to it is reported as a cycle. */
  readonly id?: string;
}

interface Context {
  readonly issues: SegmentIssue[];
  readonly lookup: SegmentLookup | undefined;
  /** Ids of the segments being compiled, outermost first: a reference to one of them is a cycle. */
  readonly stack: readonly string[];
  /** Referenced segments already compiled (a segment referenced twice is compiled once). */
  readonly compiled: Map<string, SegmentNode | undefined>;
  readonly references: Set<string>;
}

/**
 * Checks a segment definition and compiles it to its AST: every issue is collected and thrown as one
 * {@link InvalidSegmentError}, each naming the JSON path of the bad node
 * (`definition.all[2].event.where[0].op: ...`). References to other segments are looked up, compiled
 * and inlined; a cycle is an error that names it (`a → b → a`). Relative times stay relative.
 */
export async function compileSegment(definition: unknown, options: CompileOptions = {}): Promise<SegmentAst> {
  const ctx: Context = {
    issues: [],
    lookup: options.lookup,
    stack: options.id === undefined ? [] : [options.id],
    compiled: new Map(),
    references: new Set(),
  };
  const root = await compileNode(definition, 'definition', 0, ctx);
  if (root !== undefined && ctx.issues.length === 0) {
    const leaves = countLeaves(root);
    if (leaves > MAX_LEAVES) {
      ctx.issues.push({
        path: 'definition',
        message: `${leaves} conditions with referenced segments inlined; at most ${MAX_LEAVES}`,
      });
    }
  }
  if (root === undefined || ctx.issues.length > 0) throw new InvalidSegmentError(ctx.issues);
  return { root, references: [...ctx.references].sort() };
}

function countLeaves(node: SegmentNode): number {
  switch (node.kind) {
    case 'all':
    case 'any':
      return node.children.reduce((sum, child) => sum + countLeaves(child), 0);
    case 'not':
      return countLeaves(node.child);
    case 'segment':
      return countLeaves(node.node);
    default:
      return 1;
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function compileNode(
  raw: unknown,
  path: string,
  depth: number,
  ctx: Context,
): Promise<SegmentNode | undefined> {
  const keys = isPlainObject(raw) ? Object.keys(raw) : [];
  const key = keys[0] as ConditionKey | undefined;
  if (
    !isPlainObject(raw) ||
    keys.length !== 1 ||
    !(CONDITION_KEYS as readonly string[]).includes(keys[0] ?? '')
  ) {
    ctx.issues.push({
      path,
      message: `a condition is an object with exactly one of the keys ${CONDITION_KEYS.join(', ')}`,
    });
    return undefined;
  }
  const body = raw[key as string];
  const at = `${path}.${key}`;
  switch (key) {
    case 'all':
    case 'any': {
      if (depth >= MAX_DEPTH) return tooDeep(at, ctx);
      if (!Array.isArray(body) || body.length === 0 || body.length > MAX_CHILDREN) {
        ctx.issues.push({ path: at, message: `a list of 1 to ${MAX_CHILDREN} conditions` });
        return undefined;
      }
      const children: (SegmentNode | undefined)[] = [];
      for (const [i, child] of body.entries())
        children.push(await compileNode(child, `${at}[${i}]`, depth + 1, ctx));
      if (children.some((child) => child === undefined)) return undefined;
      const nodes = children as SegmentNode[];
      return nodes.length === 1 ? nodes[0] : { kind: key, children: nodes };
    }
    case 'not': {
      if (depth >= MAX_DEPTH) return tooDeep(at, ctx);
      const child = await compileNode(body, at, depth + 1, ctx);
      if (child === undefined) return undefined;
      return child.kind === 'not' ? child.child : { kind: 'not', child };
    }
    case 'trait': {
      const trait = check(TraitCondition, body, at, ctx);
      return trait && { kind: 'trait', path: trait.name.split('.'), test: valueTest(trait) };
    }
    case 'event': {
      const event = check(EventCondition, body, at, ctx);
      if (event === undefined) return undefined;
      const count: NumberTest =
        event.count !== undefined
          ? numberTest(event.count)
          : event.performed === false
            ? { op: 'eq', value: 0 }
            : { op: 'gte', value: 1 };
      return {
        kind: 'event',
        name: event.name,
        ...(event.within === undefined ? {} : { window: windowOf(event.within) }),
        where: filters(event.where),
        count,
      };
    }
    case 'aggregate': {
      const aggregate = check(AggregateCondition, body, at, ctx);
      if (aggregate === undefined) return undefined;
      return {
        kind: 'aggregate',
        fn: aggregate.fn,
        event: aggregate.event,
        path: aggregate.property.split('.'),
        ...(aggregate.within === undefined ? {} : { window: windowOf(aggregate.within) }),
        where: filters(aggregate.where),
        test: numberTest(aggregate),
      };
    }
    case 'first_seen':
    case 'last_seen': {
      const seen = check(SeenCondition, body, at, ctx);
      return (
        seen && {
          kind: 'seen',
          which: key === 'first_seen' ? 'first' : 'last',
          op: seen.op,
          at: timePoint(seen.value),
        }
      );
    }
    case 'consent': {
      const consent = check(ConsentCondition, body, at, ctx);
      return consent && { kind: 'consent', category: consent.category };
    }
    case 'segment': {
      const reference = check(SegmentReference, body, at, ctx);
      return reference && (await compileReference(reference.id, `${at}.id`, ctx));
    }
  }
}

function tooDeep(path: string, ctx: Context): undefined {
  ctx.issues.push({ path, message: `all / any / not nested deeper than ${MAX_DEPTH}` });
  return undefined;
}

async function compileReference(id: string, path: string, ctx: Context): Promise<SegmentNode | undefined> {
  if (ctx.stack.includes(id)) {
    const cycle = [...ctx.stack.slice(ctx.stack.indexOf(id)), id].join(' → ');
    ctx.issues.push({ path, message: `segment references form a cycle: ${cycle}` });
    return undefined;
  }
  ctx.references.add(id);
  if (ctx.compiled.has(id)) {
    const node = ctx.compiled.get(id);
    return node && { kind: 'segment', id, node };
  }
  if (ctx.lookup === undefined) {
    ctx.issues.push({ path, message: `segment "${id}" cannot be looked up here` });
    return undefined;
  }
  const definition = await ctx.lookup(id);
  if (definition === undefined) {
    ctx.issues.push({ path, message: `no segment "${id}"` });
    return undefined;
  }
  const inner: Context = { ...ctx, issues: [], stack: [...ctx.stack, id] };
  const node = await compileNode(definition, 'definition', 0, inner);
  // Issues inside the referenced definition are reported at the reference, with their own path.
  for (const issue of inner.issues) {
    ctx.issues.push({ path, message: `segment "${id}": ${issue.path}: ${issue.message}` });
  }
  const result = inner.issues.length === 0 ? node : undefined;
  ctx.compiled.set(id, result);
  return result && { kind: 'segment', id, node: result };
}

/** Parses a body with its schema, recording each zod issue under the body's path. */
function check<T>(schema: z.ZodType<T>, body: unknown, path: string, ctx: Context): T | undefined {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    ctx.issues.push({ path: path + formatPath(issue.path), message: issue.message });
  }
  return undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}

function timePoint(value: DateValue): TimePoint {
  return typeof value === 'string'
    ? { kind: 'absolute', ms: Date.parse(value) }
    : { kind: 'ago', ms: durationMs(value.ago) };
}

function windowOf(window: WindowDefinition): Window {
  return 'last' in window
    ? { from: { kind: 'ago', ms: durationMs(window.last) }, to: { kind: 'ago', ms: 0 } }
    : { from: timePoint(window.from), to: timePoint(window.to) };
}

function numberTest(condition: NumberCondition | AggregateCondition): NumberTest {
  return condition.op === 'between'
    ? { op: 'between', min: condition.value[0], max: condition.value[1] }
    : { op: condition.op, value: condition.value };
}

function valueTest(condition: TraitCondition | PropertyCondition): ValueTest {
  switch (condition.op) {
    case 'exists':
    case 'not_exists':
      return { op: condition.op };
    case 'eq':
    case 'neq':
      return { op: condition.op, value: condition.value };
    case 'in':
    case 'not_in':
      return { op: condition.op, values: condition.value };
    case 'contains':
    case 'starts_with':
      return { op: condition.op, value: condition.value };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { op: condition.op, value: condition.value };
    case 'between':
      return { op: 'between', min: condition.value[0], max: condition.value[1] };
    case 'before':
    case 'after':
      return { op: condition.op, at: timePoint(condition.value) };
  }
}

function filters(where: readonly PropertyCondition[] | undefined): PropertyFilter[] {
  return (where ?? []).map((filter) => ({ path: filter.property.split('.'), test: valueTest(filter) }));
}
