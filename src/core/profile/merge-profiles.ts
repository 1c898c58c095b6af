import { IdentityInvariantError } from '../identity/errors';
import { compareStrings } from '../identity/identifier';
import { compareProfileAge } from '../identity/winner';
import { addCounters, mergeGroups, recentEvents } from './activity';
import { mergeRanked } from './bounded-map';
import { PROFILE_BOUNDS, type ProfileBounds } from './bounds';
import { latestConsent } from './consent';
import { mergeSeen } from './dedupe';
import { unionIdentities } from './identities';
import { assembleProfile, type Profile } from './profile';
import { traitOps } from './traits';
import type { ProfileWarning } from './warnings';

export interface MergeResult {
  /** The winner with the loser absorbed; the winner itself when there was nothing to do. */
  readonly profile: Profile;
  /** False when the loser was already absorbed (a retried merge) or is the winner itself. */
  readonly changed: boolean;
  readonly warnings: readonly ProfileWarning[];
}

/**
 * Absorbs `loser` into `winner` (pure). Anonymous history follows the person: counters add up,
 * traits keep the newest write per trait, consent the latest, recent events, groups, identities and
 * dedupe memories are united, `firstSeen`/`lastSeen` widen. The result keeps the winner's id and
 * `createdAt`, and records the loser (and what it had absorbed) in `mergedFrom`.
 *
 * Idempotent: merging a loser the winner already absorbed returns the winner unchanged, so a store
 * that crashed after writing the merged winner can simply run the merge again. Commutative and
 * associative over profiles (for the winner the rule picks), so merging a set of profiles in any
 * order and grouping gives the same profile — which also equals applying all their events to one.
 *
 * The caller must pass the winner the rule picks (`compareProfileAge`); anything else is a bug in the
 * caller and throws `IdentityInvariantError`. An event must have been applied to only one of the two
 * (the resolver applies each event to the one profile it resolves to); one applied to both counts twice.
 */
export function mergeProfiles(
  winner: Profile,
  loser: Profile,
  bounds: ProfileBounds = PROFILE_BOUNDS,
): MergeResult {
  if (winner.profileId === loser.profileId || winner.mergedFrom.includes(loser.profileId)) {
    return { profile: winner, changed: false, warnings: [] };
  }
  if (compareProfileAge(winner, loser) > 0) {
    throw new IdentityInvariantError(
      `profile ${winner.profileId} cannot absorb the older profile ${loser.profileId}: merges go into the oldest`,
    );
  }
  const warnings: ProfileWarning[] = [];
  const traits = mergeRanked(winner.traits, loser.traits, traitOps(bounds));
  if (traits.dropped > 0)
    warnings.push({ code: 'traits_trimmed', detail: `${traits.dropped} over ${bounds.maxTraits}` });

  const mergedFrom = [...new Set([...winner.mergedFrom, ...loser.mergedFrom, loser.profileId])].sort(
    compareStrings,
  );
  if (mergedFrom.length > bounds.maxMergedFrom) {
    warnings.push({
      code: 'merged_from_trimmed',
      detail: `${mergedFrom.length} over ${bounds.maxMergedFrom}`,
    });
    mergedFrom.length = bounds.maxMergedFrom;
  }
  const { seen, seenHorizon } = mergeSeen(winner, loser, bounds.dedupeWindow);

  const profile = assembleProfile({
    profileId: winner.profileId,
    createdAt: winner.createdAt,
    firstSeen: earliest(winner.firstSeen, loser.firstSeen),
    lastSeen: latest(winner.lastSeen, loser.lastSeen),
    identities: unionIdentities(winner.identities, loser.identities),
    traits: traits.map,
    consent: latestConsent(winner.consent, loser.consent),
    ...addCounters(winner, loser, bounds, warnings),
    groups: mergeGroups(winner.groups, loser.groups, bounds, warnings),
    recentEvents: recentEvents(winner.recentEvents, loser.recentEvents, bounds),
    seen,
    seenHorizon,
    mergedFrom,
  });
  return { profile, changed: true, warnings };
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) < Date.parse(a) ? b : a;
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}
