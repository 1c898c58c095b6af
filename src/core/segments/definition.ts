import { z } from 'zod';
import { CONSENT_CATEGORY, checkPath, EVENT_NAME, SEGMENT_ID } from './names';

/**
 * The JSON rule language of segment definitions (zod v4). A condition is an object with exactly one
 * key — `trait`, `event`, `aggregate`, `first_seen`, `last_seen`, `consent`, `segment`, or the
 * combinators `all`, `any`, `not` — dispatched by `compileSegment`, which validates each body with the
 * schemas below and reports every issue with its JSON path. See docs/segments.md.
 */

/** Longest string value accepted in a condition; values are always bound parameters. */
export const MAX_STRING_VALUE = 1000;
/** Most values in an `in` / `not_in` list. */
export const MAX_LIST_VALUES = 1000;
/** Most property filters on one event or aggregate condition. */
export const MAX_FILTERS = 20;
/** Longest relative duration or window: ten years. */
export const MAX_DURATION_MS = 3660 * 86_400_000;

const MINUTE = 60_000;
const UNIT_MS = {
  minutes: MINUTE,
  hours: 60 * MINUTE,
  days: 1440 * MINUTE,
  weeks: 7 * 1440 * MINUTE,
} as const;

const count = z.number().int().nonnegative().max(5_270_400);
/** `{ "days": 30 }`, `{ "hours": 1, "minutes": 30 }`: a length of time, at least a minute. */
export const Duration = z
  .strictObject({
    minutes: count.optional(),
    hours: count.optional(),
    days: count.optional(),
    weeks: count.optional(),
  })
  .refine(
    (d) => durationMs(d) >= MINUTE,
    'give at least one of minutes, hours, days, weeks, in total ≥ 1 minute',
  )
  .refine((d) => durationMs(d) <= MAX_DURATION_MS, 'at most 3660 days');
export type Duration = z.infer<typeof Duration>;

/** The length of a duration in ms. */
export function durationMs(d: {
  readonly minutes?: number | undefined;
  readonly hours?: number | undefined;
  readonly days?: number | undefined;
  readonly weeks?: number | undefined;
}): number {
  return (
    (d.minutes ?? 0) * UNIT_MS.minutes +
    (d.hours ?? 0) * UNIT_MS.hours +
    (d.days ?? 0) * UNIT_MS.days +
    (d.weeks ?? 0) * UNIT_MS.weeks
  );
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
/** `2026-11-01` (midnight UTC) or `2026-11-01T09:30:00Z` / `...+01:00` (a time needs its offset). */
export const IsoTime = z
  .string()
  .regex(ISO_TIME, 'an ISO-8601 date (2026-11-01) or time with offset (2026-11-01T09:30:00Z)')
  .refine((text) => {
    const ms = Date.parse(text);
    return !Number.isNaN(ms) && ms >= 0 && ms < Date.UTC(10000, 0, 1);
  }, 'not a valid date');

/** An absolute time or `{ "ago": { "days": 30 } }`, relative to when the segment runs. */
export const DateValue = z.union([IsoTime, z.strictObject({ ago: Duration })]);
export type DateValue = z.infer<typeof DateValue>;

/** `{ "last": { "days": 30 } }` or `{ "from": "2026-11-01", "to": "2026-11-30T23:59:59Z" }` (inclusive). */
export const WindowDefinition = z.union([
  z.strictObject({ last: Duration }),
  z
    .strictObject({ from: IsoTime, to: IsoTime })
    .refine((w) => Date.parse(w.from) <= Date.parse(w.to), '`from` must not be after `to`'),
]);
export type WindowDefinition = z.infer<typeof WindowDefinition>;

const Text = z
  .string()
  .max(MAX_STRING_VALUE)
  .refine((s) => !s.includes('\u0000'), 'a value may not contain NUL');
const Scalar = z.union([Text, z.number(), z.boolean()]);
const NumberPair = z
  .tuple([z.number(), z.number()])
  .refine(([min, max]) => min <= max, 'between takes [min, max] with min ≤ max');

/** Trait and property tests: `op` and, for all but `exists` / `not_exists`, a `value`. */
export const VALUE_OPS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'exists',
  'not_exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'before',
  'after',
] as const;

function valueConditions<K extends string, S extends z.ZodType>(key: K, name: S) {
  const field = { [key]: name } as { [P in K]: S };
  return z.discriminatedUnion('op', [
    z.strictObject({ ...field, op: z.enum(['exists', 'not_exists']) }),
    z.strictObject({ ...field, op: z.enum(['eq', 'neq']), value: Scalar }),
    z.strictObject({
      ...field,
      op: z.enum(['in', 'not_in']),
      value: z.union(
        [z.array(Text).min(1).max(MAX_LIST_VALUES), z.array(z.number()).min(1).max(MAX_LIST_VALUES)],
        { error: `a list of 1 to ${MAX_LIST_VALUES} strings, or of numbers` },
      ),
    }),
    z.strictObject({ ...field, op: z.enum(['contains', 'starts_with']), value: Text.min(1) }),
    z.strictObject({ ...field, op: z.enum(['gt', 'gte', 'lt', 'lte']), value: z.number() }),
    z.strictObject({ ...field, op: z.literal('between'), value: NumberPair }),
    z.strictObject({ ...field, op: z.enum(['before', 'after']), value: DateValue }),
  ]);
}

/** A trait or property path: dot-separated names (`plan`, `address.city`). */
export const Path = z.string().superRefine((path, ctx) => {
  const problem = checkPath(path);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
export const EventName = z
  .string()
  .regex(
    EVENT_NAME,
    'an event name: letters, digits, _ space . : / -, 1 to 128 characters, no space at either end',
  );

/** `{ "name": "plan", "op": "eq", "value": "pro" }` */
export const TraitCondition = valueConditions('name', Path);
export type TraitCondition = z.infer<typeof TraitCondition>;
/** `{ "property": "total", "op": "gt", "value": 100 }` */
export const PropertyCondition = valueConditions('property', Path);
export type PropertyCondition = z.infer<typeof PropertyCondition>;

/** A test of a number: `{ "op": "gte", "value": 2 }`, `{ "op": "between", "value": [2, 5] }`. */
export const NumberCondition = z.discriminatedUnion('op', [
  z.strictObject({ op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']), value: z.number() }),
  z.strictObject({ op: z.literal('between'), value: NumberPair }),
]);
export type NumberCondition = z.infer<typeof NumberCondition>;

const Filters = z.array(PropertyCondition).max(MAX_FILTERS);

/** `{ "name": "Order Completed", "count": { "op": "gte", "value": 2 }, "within": { "last": { "days": 30 } } }` */
export const EventCondition = z
  .strictObject({
    name: EventName,
    performed: z.boolean().optional(),
    count: NumberCondition.optional(),
    within: WindowDefinition.optional(),
    where: Filters.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.performed === false && event.count !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['count'],
        message: '`performed: false` means a count of 0; give `performed` or `count`, not both',
      });
    }
  });
export type EventCondition = z.infer<typeof EventCondition>;

export const AGGREGATE_FNS = ['sum', 'avg', 'min', 'max', 'count_distinct'] as const;
const aggregateFields = {
  fn: z.enum(AGGREGATE_FNS),
  event: EventName,
  property: Path,
  within: WindowDefinition.optional(),
  where: Filters.optional(),
};
/** `{ "fn": "sum", "event": "Order Completed", "property": "total", "op": "gte", "value": 100 }` */
export const AggregateCondition = z.discriminatedUnion('op', [
  z.strictObject({
    ...aggregateFields,
    op: z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte']),
    value: z.number(),
  }),
  z.strictObject({ ...aggregateFields, op: z.literal('between'), value: NumberPair }),
]);
export type AggregateCondition = z.infer<typeof AggregateCondition>;

/** `{ "op": "after", "value": { "ago": { "days": 7 } } }` */
export const SeenCondition = z.strictObject({ op: z.enum(['before', 'after']), value: DateValue });
export type SeenCondition = z.infer<typeof SeenCondition>;

/** `{ "category": "Advertising" }`: the latest consent grants it (`true`). */
export const ConsentCondition = z.strictObject({
  category: z.string().regex(CONSENT_CATEGORY, 'a consent category: letters, digits and _, at most 64'),
});
export const SegmentId = z.string().regex(SEGMENT_ID, 'a segment id: letters, digits, _ and -, at most 64');
/** `{ "id": "pro-buyers" }`: a member of that segment. */
export const SegmentReference = z.strictObject({ id: SegmentId });

/** The keys that make a condition, one per condition object. */
export const CONDITION_KEYS = [
  'all',
  'any',
  'not',
  'trait',
  'event',
  'aggregate',
  'first_seen',
  'last_seen',
  'consent',
  'segment',
] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

/** A segment definition as JSON (its structure is checked by `compileSegment`). */
export type SegmentDefinition =
  | { readonly all: readonly SegmentDefinition[] }
  | { readonly any: readonly SegmentDefinition[] }
  | { readonly not: SegmentDefinition }
  | { readonly trait: TraitCondition }
  | { readonly event: EventCondition }
  | { readonly aggregate: AggregateCondition }
  | { readonly first_seen: SeenCondition }
  | { readonly last_seen: SeenCondition }
  | { readonly consent: z.infer<typeof ConsentCondition> }
  | { readonly segment: z.infer<typeof SegmentReference> };

/** The zod schema of a definition's shape (for APIs that want one); `compileSegment` does the checking. */
export const SegmentDefinition: z.ZodType<SegmentDefinition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(SegmentDefinition).min(1) }),
    z.strictObject({ any: z.array(SegmentDefinition).min(1) }),
    z.strictObject({ not: SegmentDefinition }),
    z.strictObject({ trait: TraitCondition }),
    z.strictObject({ event: EventCondition }),
    z.strictObject({ aggregate: AggregateCondition }),
    z.strictObject({ first_seen: SeenCondition }),
    z.strictObject({ last_seen: SeenCondition }),
    z.strictObject({ consent: ConsentCondition }),
    z.strictObject({ segment: SegmentReference }),
  ]),
) as z.ZodType<SegmentDefinition>;
