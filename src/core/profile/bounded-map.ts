import { compareStrings } from '../identity/identifier';

/**
 * A map of last-write-wins entries bounded to the `max` entries that rank highest. Two writes of one
 * key are decided by `compare`; entries of different keys are ranked by `rank`, then by key, to decide
 * which are kept. `rank` must never put the loser of `compare` above its winner (it may tie them).
 *
 * Why this is order-independent: the state is always "per key, the highest-ranked entry written; of
 * those, the `max` highest" — a function of the set of writes. An entry dropped for space ranked below
 * everything kept, and what is kept only ever ranks higher over time, so an older write for a dropped
 * key arriving later is dropped again, and a newer one competes fairly. Merging two such maps keeps
 * the same thing as writing everything into one.
 */
export interface RankedMapOps<E> {
  /** Total order on writes of one key; negative when `a` loses to (is older than) `b`. */
  readonly compare: (a: E, b: E) => number;
  /** Order on entries of different keys for keeping (ties go by key); negative when `a` ranks lower. */
  readonly rank: (a: E, b: E) => number;
  readonly max: number;
}

/** The entry stored under `key`, if it is an own property. */
export function getOwn<E>(map: Readonly<Record<string, E>>, key: string): E | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/**
 * Writes entries into a copy of `map`: each wins over the stored one for its key if it ranks higher.
 * Returns the new map (the same object when nothing changed) and how many entries were dropped for
 * space (including written ones that did not make it).
 */
export function writeRanked<E>(
  map: Readonly<Record<string, E>>,
  writes: Iterable<readonly [string, E]>,
  ops: RankedMapOps<E>,
): { map: Readonly<Record<string, E>>; dropped: number } {
  let next: Record<string, E> | undefined;
  let added = false;
  for (const [key, entry] of writes) {
    const current = getOwn(next ?? map, key);
    if (current !== undefined && ops.compare(entry, current) <= 0) continue;
    next ??= { ...map };
    if (current === undefined) added = true;
    Object.defineProperty(next, key, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  if (next === undefined) return { map, dropped: 0 };
  const entries = Object.entries(next);
  if (entries.length <= ops.max) return { map: added ? canonical(entries) : next, dropped: 0 };
  return { map: canonical(topRanked(entries, ops)), dropped: entries.length - ops.max };
}

/** Every entry of both maps, the higher-ranked per key, bounded to `ops.max`. */
export function mergeRanked<E>(
  a: Readonly<Record<string, E>>,
  b: Readonly<Record<string, E>>,
  ops: RankedMapOps<E>,
): { map: Readonly<Record<string, E>>; dropped: number } {
  const { map, dropped } = writeRanked(a, Object.entries(b), ops);
  return { map, dropped };
}

/** The `max` highest-ranked entries (by rank, then key). */
function topRanked<E>(entries: [string, E][], ops: RankedMapOps<E>): [string, E][] {
  return entries.sort(([ka, a], [kb, b]) => ops.rank(b, a) || compareStrings(kb, ka)).slice(0, ops.max);
}

/** A plain object with keys in code-unit order, so equal maps serialise to equal text. */
export function canonical<E>(entries: [string, E][]): Record<string, E> {
  const sorted = entries.sort(([a], [b]) => compareStrings(a, b));
  const out: Record<string, E> = {};
  for (const [key, value] of sorted) {
    // Assigning `__proto__` would set the prototype instead of adding a key.
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    } else out[key] = value;
  }
  return out;
}
