import { compareStrings } from '../identity/identifier';
import type { DedupeHorizon } from './profile';

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
  readonly seen: Readonly<Record<string, number>>;
  readonly seenHorizon?: DedupeHorizon;
};

interface Mark {
  readonly t: number;
  readonly h: string;
}

const compareMarks = (a: Mark, b: Mark): number => a.t - b.t || compareStrings(a.h, b.h);

/** `duplicate` (key remembered), `beyond_dedupe_horizon` (received before the horizon's millisecond), or `new`. */
export function seenStatus(state: SeenState, mark: Mark): 'new' | 'duplicate' | 'beyond_dedupe_horizon' {
  if (Object.hasOwn(state.seen, mark.h) || state.seenHorizon?.h === mark.h) return 'duplicate';
  if (state.seenHorizon !== undefined && mark.t < state.seenHorizon.t) return 'beyond_dedupe_horizon';
  return 'new';
}

/** Remembers a newly applied message, forgetting the oldest beyond the window. */
export function markSeen(state: SeenState, mark: Mark, window: number): SeenState {
  return fromMarks([...toMarks(state.seen), mark], [state.seenHorizon], window);
}

/** The union of two profiles' memories, bounded the same way (the horizon is the newest mark forgotten). */
export function mergeSeen(a: SeenState, b: SeenState, window: number): SeenState {
  return fromMarks([...toMarks(a.seen), ...toMarks(b.seen)], [a.seenHorizon, b.seenHorizon], window);
}

function toMarks(seen: Readonly<Record<string, number>>): Mark[] {
  return Object.entries(seen).map(([h, t]) => ({ t, h }));
}

function fromMarks(
  marks: Mark[],
  horizons: readonly (DedupeHorizon | undefined)[],
  window: number,
): SeenState {
  // Each horizon is a message its profile applied: it takes part in the ranking like any other.
  const all = new Map<string, number>();
  for (const mark of [...marks, ...horizons.filter((h): h is DedupeHorizon => h !== undefined)]) {
    const t = all.get(mark.h);
    if (t === undefined || mark.t > t) all.set(mark.h, mark.t);
  }
  const ranked = [...all].map(([h, t]) => ({ t, h })).sort((a, b) => compareMarks(b, a));
  const kept = ranked.slice(0, window).sort((a, b) => compareStrings(a.h, b.h));
  const seen: Record<string, number> = {};
  for (const mark of kept) seen[mark.h] = mark.t;
  const forgotten = ranked[window];
  return forgotten === undefined ? { seen } : { seen, seenHorizon: { t: forgotten.t, h: forgotten.h } };
}
