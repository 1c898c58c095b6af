import { compareStrings } from '../identity/identifier';
import type { SeenMark } from './profile';

/**
 * Idempotency by (source, messageId), kept inside the profile so it is written atomically with what
 * the message changed. The profile remembers the keys of the `window` most recently received messages
 * it applied (ranked by `receivedAt`, then key); the newest one it forgot is the horizon, and a
 * message received in an earlier millisecond than the horizon counts as seen.
 *
 * Exactly what that guarantees, with `window` = 256 in production:
 * - A message is never lost on its first delivery unless `window` messages of the same profile
 *   received in later milliseconds were applied before it (a record stuck in retries while its
 *   profile got that many newer events). It is then skipped as `beyond_dedupe_horizon`, and the
 *   resolver counts it. Messages received in the same millisecond (one request's batch) are never
 *   skipped for this reason, however many there are.
 * - A redelivered message is recognised unless it was forgotten, is not the horizon itself, and was
 *   received in the horizon's own millisecond: only when more than `window` messages of one profile
 *   arrived in one request (or within one millisecond) can a redelivery count again. A store that must rule that out as well keeps
 *   a dedupe record per message beside the profile.
 * - The state is a function of the set of messages applied, so the order in which they came does not
 *   matter as long as neither case above occurs.
 */
export type SeenState = {
  readonly seen: readonly SeenMark[];
  readonly seenHorizon?: SeenMark;
};

/** Newest first: later `receivedAt`, then larger key. */
const newestFirst = (a: SeenMark, b: SeenMark): number => b[0] - a[0] || compareStrings(b[1], a[1]);

/** `duplicate` (key remembered), `beyond_dedupe_horizon` (received before the horizon's millisecond), or `new`. */
export function seenStatus(state: SeenState, mark: SeenMark): 'new' | 'duplicate' | 'beyond_dedupe_horizon' {
  const [t, h] = mark;
  if (state.seenHorizon?.[1] === h || state.seen.some((m) => m[1] === h)) return 'duplicate';
  if (state.seenHorizon !== undefined && t < state.seenHorizon[0]) return 'beyond_dedupe_horizon';
  return 'new';
}

/** Remembers a newly applied message (one `seenStatus` called new), forgetting the oldest beyond the window. */
export function markSeen(state: SeenState, mark: SeenMark, window: number): SeenState {
  const seen = state.seen.slice();
  // Binary search for the first mark older than the new one.
  let low = 0;
  let high = seen.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (newestFirst(seen[mid] as SeenMark, mark) < 0) low = mid + 1;
    else high = mid;
  }
  seen.splice(low, 0, [mark[0], mark[1]]);
  if (seen.length <= window) return withHorizon(seen, state.seenHorizon);
  // Everything forgotten is older than everything kept; the horizon is the newest of it.
  const forgotten = seen.pop() as SeenMark;
  const horizon =
    state.seenHorizon === undefined || newestFirst(forgotten, state.seenHorizon) < 0
      ? forgotten
      : state.seenHorizon;
  return { seen, seenHorizon: horizon };
}

/** The union of two profiles' memories, bounded the same way (the horizon is the newest mark forgotten). */
export function mergeSeen(a: SeenState, b: SeenState, window: number): SeenState {
  // Each horizon is a message its profile applied: it takes part in the ranking like any other.
  const byKey = new Map<string, number>();
  const marks = [...a.seen, ...b.seen, ...[a.seenHorizon, b.seenHorizon].filter((m) => m !== undefined)];
  for (const [t, h] of marks) {
    const known = byKey.get(h);
    if (known === undefined || t > known) byKey.set(h, t);
  }
  const ranked = [...byKey].map(([h, t]): SeenMark => [t, h]).sort(newestFirst);
  const forgotten = ranked[window];
  return withHorizon(ranked.slice(0, window), forgotten);
}

function withHorizon(seen: readonly SeenMark[], horizon: SeenMark | undefined): SeenState {
  return horizon === undefined ? { seen } : { seen, seenHorizon: horizon };
}
