import type { TimePoint } from './ast';

/**
 * A bound value of a compiled query, in the order of its placeholders. Times may be relative to the
 * run's `now`, so the SQL text of a segment never changes between runs; {@link bindParams} turns them
 * into values when the query runs.
 */
export type QueryParam =
  | { readonly type: 'varchar'; readonly value: string }
  | { readonly type: 'double'; readonly value: number }
  /** An event time: compared with the lake's `timestamp` columns (UTC wall-clock `TIMESTAMP`). */
  | { readonly type: 'timestamp'; readonly at: TimePoint }
  /** An instant compared with an ISO-8601 text value parsed as `TIMESTAMP WITH TIME ZONE`. */
  | { readonly type: 'timestamptz'; readonly at: TimePoint }
  /** The first `dt` partition that can hold events from `at` on (`YYYY-MM-DD`, a string compare). */
  | { readonly type: 'dt'; readonly at: TimePoint };

export interface BindOptions {
  /** The time the segment is evaluated at (ms since the epoch or a Date): relative times count back from it. */
  readonly now: number | Date;
  /**
   * How much later than `received_at` an event's `timestamp` may be — the collector clamps
   * timestamps beyond `receivedAt + maxFutureMs` (5 minutes by default). Partitions are by
   * `received_at`, so a window from `t` reads `dt >= date(t - slack)`. Default 1 hour.
   */
  readonly partitionSlackMs?: number;
}

export const DEFAULT_PARTITION_SLACK_MS = 3_600_000;

/** A value ready for a driver: text or a number. */
export type BoundValue = string | number;

/** The ms since the epoch of a time point at `now`. */
export function resolveTime(at: TimePoint, now: number): number {
  return at.kind === 'absolute' ? at.ms : now - at.ms;
}

/** The values of a query's parameters at `now`, in placeholder order (DuckDB takes them as they are). */
export function bindParams(params: readonly QueryParam[], options: BindOptions): BoundValue[] {
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  if (!Number.isFinite(now)) throw new RangeError('now must be a valid time');
  const slack = options.partitionSlackMs ?? DEFAULT_PARTITION_SLACK_MS;
  return params.map((param) => bindOne(param, now, slack));
}

function bindOne(param: QueryParam, now: number, slack: number): BoundValue {
  switch (param.type) {
    case 'varchar':
    case 'double':
      return param.value;
    case 'timestamp':
      // `2026-11-22 10:00:00.000`: the text both engines cast to TIMESTAMP.
      return isoText(resolveTime(param.at, now)).replace('T', ' ').slice(0, 23);
    case 'timestamptz':
      return isoText(resolveTime(param.at, now));
    case 'dt':
      return isoText(resolveTime(param.at, now) - slack).slice(0, 10);
  }
}

function isoText(ms: number): string {
  const clamped = Math.min(Math.max(ms, 0), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  return new Date(clamped).toISOString();
}

/**
 * Athena `ExecutionParameters` for a query: Athena substitutes each one as a SQL literal, typed by its
 * text, and treats a value as a string only inside single quotes. So every value is given as a string
 * literal — a `'` inside doubled — and the SQL casts where it needs another type (`CAST(? AS DOUBLE)`),
 * which keeps any value, whatever its text, a single inert literal.
 */
export function athenaExecutionParameters(params: readonly QueryParam[], options: BindOptions): string[] {
  return bindParams(params, options).map((value) => sqlStringLiteral(String(value)));
}

/** A SQL string literal: the text in single quotes, each `'` doubled (no other escapes exist in Trino or DuckDB). */
export function sqlStringLiteral(text: string): string {
  if (text.includes('\u0000')) throw new RangeError('a SQL string literal cannot hold NUL');
  return `'${text.replaceAll("'", "''")}'`;
}
