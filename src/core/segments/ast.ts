/**
 * The normalised form of a segment definition: what the SQL printers and the in-memory reference
 * evaluator (`reference-evaluator.ts`) read. Every name in it has passed its allow-list pattern (`names.ts`); every
 * time is either absolute (ms since the epoch) or relative to a `now` that is supplied only when the
 * query runs, so one compiled segment serves every run.
 *
 * Semantics (the contract a reference evaluator must meet, and the SQL printers do):
 * - A profile is a current `profile_id` of `identity_links` (the latest row per identifier). Each
 *   event belongs to the current profile of its `user_id`, else of its `anonymous_id`.
 * - Traits: per top-level trait, the write of the latest event wins (event `timestamp`, then the
 *   resolver's message key, `messageKey(source, messageId)`); writes come from `context.traits` of any call and `traits` of an
 *   identify call (which wins within one event). A nested path reads into the winning value.
 * - Consent: the latest event's whole `context.consent.categoryPreferences` object.
 * - Events: `track` calls, deduplicated by (`source`, `message_id`) on each profile, as the resolver
 *   counts them: a `message_id` reused by another person's message counts for that person too.
 */

/** A point in time: absolute, or `ms` before the run's `now`. */
export type TimePoint =
  | { readonly kind: 'absolute'; readonly ms: number }
  | { readonly kind: 'ago'; readonly ms: number };

/** Event time window, both ends inclusive: `from <= timestamp <= to`. */
export interface Window {
  readonly from: TimePoint;
  readonly to: TimePoint;
}

/** A test of a number (event counts, aggregates). */
export type NumberTest =
  | { readonly op: 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly op: 'between'; readonly min: number; readonly max: number };

/**
 * A test of a JSON value (a trait, an event property). Every test but `not_exists` is false for an
 * absent value or JSON null; type-strict: a string operand matches only JSON strings, a number operand
 * only JSON numbers, a boolean operand only JSON booleans, dates only ISO-8601 strings.
 */
export type ValueTest =
  | { readonly op: 'exists' | 'not_exists' }
  | { readonly op: 'eq' | 'neq'; readonly value: string | number | boolean }
  | { readonly op: 'in' | 'not_in'; readonly values: readonly string[] | readonly number[] }
  | { readonly op: 'contains' | 'starts_with'; readonly value: string }
  | { readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly op: 'between'; readonly min: number; readonly max: number }
  | { readonly op: 'before' | 'after'; readonly at: TimePoint };

/** A filter on the properties of the events a condition counts. */
export interface PropertyFilter {
  readonly path: readonly string[];
  readonly test: ValueTest;
}

export type AggregateFn = 'sum' | 'avg' | 'min' | 'max' | 'count_distinct';

export type SegmentNode =
  | { readonly kind: 'trait'; readonly path: readonly string[]; readonly test: ValueTest }
  | {
      /** How many matching events the profile has (`performed` is `gte 1`, `not performed` is `eq 0`). */
      readonly kind: 'event';
      readonly name: string;
      readonly window?: Window;
      readonly where: readonly PropertyFilter[];
      readonly count: NumberTest;
    }
  | {
      /**
       * An aggregate of a property over the matching events. `sum` and `count_distinct` of no values
       * are 0; `avg`, `min`, `max` of no values are undefined and every test of them is false. `sum`,
       * `avg`, `min`, `max` read JSON numbers only; `count_distinct` counts distinct scalar texts.
       */
      readonly kind: 'aggregate';
      readonly fn: AggregateFn;
      readonly event: string;
      readonly path: readonly string[];
      readonly window?: Window;
      readonly where: readonly PropertyFilter[];
      readonly test: NumberTest;
    }
  | {
      /** Earliest / latest event `timestamp` of the profile, any call type. False for a profile without events. */
      readonly kind: 'seen';
      readonly which: 'first' | 'last';
      readonly op: 'before' | 'after';
      readonly at: TimePoint;
    }
  | { readonly kind: 'consent'; readonly category: string }
  | { readonly kind: 'all'; readonly children: readonly SegmentNode[] }
  | { readonly kind: 'any'; readonly children: readonly SegmentNode[] }
  | { readonly kind: 'not'; readonly child: SegmentNode }
  /** Membership of another segment: its definition, compiled and inlined. */
  | { readonly kind: 'segment'; readonly id: string; readonly node: SegmentNode };

/** A compiled segment: the tree and the segments it depends on (directly or through others). */
export interface SegmentAst {
  readonly root: SegmentNode;
  readonly references: readonly string[];
}
