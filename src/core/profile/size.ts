import { IDENTITY_BUDGET_BYTES } from '../identity/identity-config';
import { jsonBytes } from '../identity/json-bytes';
import { MAX_PROFILE_ID_LENGTH, PROFILE_BOUNDS, type ProfileBounds } from './bounds';

/** DynamoDB's limit for one item (names and values together). */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/**
 * The most a serialised profile may take: half of DynamoDB's item limit. The other half is headroom
 * for what a store adds (keys, a version for conditional writes, index attributes). Measured as JSON
 * text; DynamoDB's own encoding of the same data is no larger (its strings are the same UTF-8 without
 * escapes, numbers and per-element overheads are smaller than their JSON text).
 */
export const PROFILE_BUDGET_BYTES = 200 * 1024;

/** The size of a profile as JSON text, in UTF-8 bytes. */
export function serializedProfileBytes(profile: unknown): number {
  return jsonBytes(profile);
}

/** Longest JSON text of an event time in ms (`-8640000000000000`). */
const MS_DIGITS = 17;
/** Longest ISO-8601 text `toISOString` gives (`+275760-09-13T00:00:00.000Z`). */
const ISO_CHARS = 27;
const KEY_HEX = 16;

/**
 * An upper bound on a profile's JSON size under the bounds and the identity budget, part by part
 * (each line is one part's longest possible JSON). A test checks it against a profile filled to every
 * bound and against {@link PROFILE_BUDGET_BYTES}.
 */
export function worstCaseProfileBytes(bounds: ProfileBounds = PROFILE_BOUNDS): number {
  const quoted = (n: number) => n + 2;
  const parts = {
    /** Field names, `schemaVersion`, ids, times, counters, the horizon and the consent version. */
    fixed: 1024,
    identities: IDENTITY_BUDGET_BYTES,
    // "key":{"v":value,"t":ms,"h":"hex"},
    traits:
      bounds.maxTraits *
      (quoted(bounds.maxTraitKeyBytes) +
        1 +
        5 +
        bounds.maxTraitValueBytes +
        5 +
        MS_DIGITS +
        6 +
        KEY_HEX +
        2 +
        1),
    // "category":false,
    consent: bounds.maxConsentCategories * (quoted(bounds.maxConsentKeyBytes) + 1 + 5 + 1),
    // "name":count,
    eventCounts: bounds.maxEventNames * (quoted(bounds.maxEventNameBytes) + 1 + MS_DIGITS + 1),
    // "groupId":ms,
    groups: bounds.maxGroups * (quoted(bounds.maxGroupIdBytes) + 1 + MS_DIGITS + 1),
    // {"key":"hex","messageId":"...","source":"...","type":"identify","event":"...","timestamp":"..."},
    recentEvents:
      bounds.maxRecentEvents *
      (8 +
        KEY_HEX +
        15 +
        bounds.maxSummaryIdBytes +
        12 +
        bounds.maxSummarySourceBytes +
        10 +
        8 +
        11 +
        bounds.maxEventNameBytes +
        15 +
        ISO_CHARS +
        3),
    // [ms,"hex"],
    seen: bounds.dedupeWindow * (1 + MS_DIGITS + 1 + quoted(KEY_HEX) + 1 + 1),
    // "profileId",
    mergedFrom: bounds.maxMergedFrom * (quoted(MAX_PROFILE_ID_LENGTH) + 1),
  };
  return Object.values(parts).reduce((sum, n) => sum + n, 0);
}
