import { compareIdentifiers, compareStrings, type Identifier, identifierKey } from '../identity/identifier';
import type { ProfileRef } from '../identity/merge-plan';
import { assembleProfile, type Profile } from './profile';

/** The union of identifier lists, each once, by type then value. */
export function unionIdentities(...lists: readonly (readonly Identifier[])[]): readonly Identifier[] {
  const byKey = new Map<string, Identifier>();
  for (const list of lists) {
    for (const id of list) {
      const key = identifierKey(id);
      if (!byKey.has(key)) byKey.set(key, { type: id.type, value: id.value });
    }
  }
  return [...byKey.values()].sort(compareIdentifiers);
}

/**
 * The profile with identifiers added to its `identities` (a plan's `link` steps). Idempotent; the
 * limits were checked by `planMerge`.
 */
export function attachIdentifiers(profile: Profile, identifiers: readonly Identifier[]): Profile {
  const identities = unionIdentities(profile.identities, identifiers);
  if (identities.length === profile.identities.length) return profile;
  return assembleProfile({ ...profile, identities });
}

/**
 * The profile without these identifiers: for a store whose claim of an identifier lost to another
 * resolver after it had listed it on the profile (see the `link` step of `planMerge`).
 */
export function detachIdentifiers(profile: Profile, identifiers: readonly Identifier[]): Profile {
  const remove = new Set(identifiers.map(identifierKey));
  const identities = profile.identities.filter((id) => !remove.has(identifierKey(id)));
  if (identities.length === profile.identities.length) return profile;
  return assembleProfile({ ...profile, identities });
}

/** Whether every identifier the profile lists is one of `identifiers` (true for a profile listing none). */
export function listsOnly(profile: Profile, identifiers: readonly Identifier[]): boolean {
  const allowed = new Set(identifiers.map(identifierKey));
  return profile.identities.every((id) => allowed.has(identifierKey(id)));
}

/** What `planMerge` needs to know about a profile: age, identifier counts per type, what it absorbed. */
export function profileRef(profile: Profile): ProfileRef {
  const counts: Record<string, number> = {};
  for (const id of profile.identities) counts[id.type] = (counts[id.type] ?? 0) + 1;
  return {
    profileId: profile.profileId,
    createdAt: profile.createdAt,
    identifierCounts: canonicalCounts(counts),
    mergedFrom: profile.mergedFrom,
  };
}

function canonicalCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => compareStrings(a, b)));
}
