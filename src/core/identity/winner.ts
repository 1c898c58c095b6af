import { compareStrings } from './identifier';

/** What the winner rule looks at: two attributes a profile gets when it is created and never changes. */
export interface ProfileAge {
  readonly profileId: string;
  /** ISO-8601 time the profile was created (the `receivedAt` of the message that created it). */
  readonly createdAt: string;
}

/**
 * The winner rule: of profiles that merge, the **oldest survives** — the earliest `createdAt`, then
 * the smallest `profileId` (code-unit order). Negative when `a` wins over `b`.
 *
 * Both attributes are fixed when a profile is created and never change, so the rule is a total order
 * on profiles that every resolver evaluates the same way, whatever it has seen first. The survivor of
 * a set of profiles is their minimum, and a minimum does not depend on the order or the grouping in
 * which profiles are merged: A→B then B→C ends in the same profile as C→A then B→A. Merges always go
 * from younger to older, so two resolvers can never merge a pair in opposite directions.
 */
export function compareProfileAge(a: ProfileAge, b: ProfileAge): number {
  const at = Date.parse(a.createdAt);
  const bt = Date.parse(b.createdAt);
  if (at !== bt) {
    // An unparsable time sorts after every real one (never expected: createdAt is set by Mosaic).
    if (Number.isNaN(at)) return 1;
    if (Number.isNaN(bt)) return -1;
    return at - bt;
  }
  return compareStrings(a.profileId, b.profileId);
}

/** The survivor of a non-empty set of profiles under {@link compareProfileAge}. */
export function pickWinner<T extends ProfileAge>(profiles: readonly T[]): T {
  let winner: T | undefined;
  for (const profile of profiles) {
    if (winner === undefined || compareProfileAge(profile, winner) < 0) winner = profile;
  }
  if (winner === undefined) throw new RangeError('pickWinner needs at least one profile');
  return winner;
}
