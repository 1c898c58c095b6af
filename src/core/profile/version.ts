import { compareStrings } from '../identity/identifier';
import type { Version } from './profile';

/** Orders versions: event time, then message key. Negative when `a` is older. */
export function compareVersions(a: Version, b: Version): number {
  return a.t - b.t || compareStrings(a.h, b.h);
}

/**
 * Orders two writes of the same thing: by version, then by the JSON text of the value — equal
 * versions come from one message, so that last step only matters for a message delivered twice with
 * different contents, and keeps even that deterministic.
 */
export function compareWrites(a: Version, av: unknown, b: Version, bv: unknown): number {
  return compareVersions(a, b) || compareStrings(JSON.stringify(av) ?? '', JSON.stringify(bv) ?? '');
}

/**
 * The event time of a record in ms: its `timestamp`, or — if that cannot be read, which the collector
 * never lets through — its `receivedAt`, or 0.
 */
export function eventTime(record: { readonly timestamp: string; readonly receivedAt: string }): {
  t: number;
  valid: boolean;
} {
  const t = Date.parse(record.timestamp);
  if (!Number.isNaN(t)) return { t, valid: true };
  const received = Date.parse(record.receivedAt);
  return { t: Number.isNaN(received) ? 0 : received, valid: false };
}

/** ms since the epoch as ISO-8601 UTC: one canonical text per instant. */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
