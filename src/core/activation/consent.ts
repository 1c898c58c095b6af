import type { Profile } from '../profile/profile';
import type { Destination } from './destination-config';

/**
 * Consent at activation (DESIGN.md "Privacy by design"): whether one member may be sent to one
 * destination, decided from the member's consent as the profile stores it
 * (`profile.consent.categoryPreferences`: category → granted) and the destination's `consent` and
 * `adType`. Fail closed:
 *
 * | destination                               | granted | denied     | unknown    |
 * | ----------------------------------------- | ------- | ---------- | ---------- |
 * | category, `required` (opt-in, default)    | allowed | suppressed | suppressed |
 * | category, not required (opt-out)          | allowed | suppressed | allowed    |
 * | category, not required, ad-type           | allowed | suppressed | suppressed |
 * | no category (`null`), not ad-type         | allowed whatever the member's consent     |
 * | no category, ad-type (refused by config)  | suppressed as unknown whatever the consent |
 *
 * "Unknown" is a profile with no consent at all or whose preferences do not name the category (the
 * latest preferences replace earlier ones whole, so a category left out is no longer granted).
 * Categories compare case-insensitively, so `advertising: false` is not missed by a destination
 * configured with `Advertising`; if a profile holds both spellings with different answers, the denial wins.
 */

/** A member's consent: category → granted, as `Profile.consent.categoryPreferences` holds it. */
export type ConsentPreferences = Readonly<Record<string, boolean>>;

export type ConsentReason =
  /** The member granted the destination's category. */
  | 'granted'
  /** The destination needs no category and is not ad-type. */
  | 'not_required'
  /** Opt-out destination and the member has not denied the category. */
  | 'not_denied'
  /** The member denied the category. */
  | 'denied'
  /** The member's consent for the category is unknown and the destination fails closed. */
  | 'unknown';

export type ConsentDecision =
  | { readonly outcome: 'allowed'; readonly reason: 'granted' | 'not_required' | 'not_denied' }
  | { readonly outcome: 'suppressed'; readonly reason: 'denied' | 'unknown' };

/** The consent preferences a profile holds (`undefined` when it never stated any). */
export function consentOfProfile(profile: Pick<Profile, 'consent'>): ConsentPreferences | undefined {
  return profile.consent?.categoryPreferences;
}

/** What a member's preferences say of one category: granted, denied or unknown (case-insensitive). */
export function categoryState(
  preferences: ConsentPreferences | undefined,
  category: string,
): 'granted' | 'denied' | 'unknown' {
  if (preferences === undefined) return 'unknown';
  const wanted = category.toLowerCase();
  let state: 'granted' | 'denied' | 'unknown' = 'unknown';
  for (const key of Object.keys(preferences)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = preferences[key];
    if (value === false) return 'denied';
    if (value === true) state = 'granted';
  }
  return state;
}

/** Whether a member with these preferences may be sent to the destination, and why. */
export function decideConsent(
  preferences: ConsentPreferences | undefined,
  destination: Pick<Destination, 'consent' | 'adType'>,
): ConsentDecision {
  const { category, required } = destination.consent;
  if (category === null) {
    // Configuration refuses an ad-type destination without a category; should one get here, fail closed.
    return destination.adType
      ? { outcome: 'suppressed', reason: 'unknown' }
      : { outcome: 'allowed', reason: 'not_required' };
  }
  switch (categoryState(preferences, category)) {
    case 'granted':
      return { outcome: 'allowed', reason: 'granted' };
    case 'denied':
      return { outcome: 'suppressed', reason: 'denied' };
    case 'unknown':
      return required || destination.adType
        ? { outcome: 'suppressed', reason: 'unknown' }
        : { outcome: 'allowed', reason: 'not_denied' };
  }
}

/** Whether a decision lets the member go. */
export function isAllowed(decision: ConsentDecision): boolean {
  return decision.outcome === 'allowed';
}
