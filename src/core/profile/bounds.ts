import { MAX_IDENTIFIERS_PER_PROFILE } from '../identity/identity-config';

/**
 * How much of each kind a profile keeps. Every resolver must use the same bounds (they shape the
 * state, so two resolvers with different bounds would disagree); tests use smaller ones to exercise
 * the trimming rules. Byte sizes are of the JSON form (UTF-8, escapes counted, without quotes for
 * strings used as keys). Together they keep a profile within `PROFILE_BUDGET_BYTES` (see `size.ts`).
 */
export interface ProfileBounds {
  /** Traits kept: the ones written by the newest events (issue #3: 300). */
  readonly maxTraits: number;
  /** A longer trait name is not kept (warning). */
  readonly maxTraitKeyBytes: number;
  /** A longer string value is cut to fit; another longer value is not kept (warning). */
  readonly maxTraitValueBytes: number;
  /** Consent categories kept from one event (the first ones by name). */
  readonly maxConsentCategories: number;
  readonly maxConsentKeyBytes: number;
  /** Track event names counted one by one; the rest count together in `otherEventCount`. */
  readonly maxEventNames: number;
  /** Event names are cut to this for counting and for summaries. */
  readonly maxEventNameBytes: number;
  /** Groups kept: the most recently seen. */
  readonly maxGroups: number;
  /** A longer group id is not kept (warning): cutting an id would confuse two groups. */
  readonly maxGroupIdBytes: number;
  /** The last events kept as summaries (issue #3: 50). */
  readonly maxRecentEvents: number;
  /** `messageId` in a summary is cut to this (for display only; dedupe uses the full id). */
  readonly maxSummaryIdBytes: number;
  /** `source` in a summary is cut to this (source names have at most 63 characters). */
  readonly maxSummarySourceBytes: number;
  /**
   * Message keys remembered for idempotency: the most recently received. A message received before
   * all of them is treated as seen (see `dedupe.ts`).
   */
  readonly dedupeWindow: number;
  /** Profile ids absorbed by merges that are remembered (at most the identifier limit - 1 can occur). */
  readonly maxMergedFrom: number;
}

/** The bounds every resolver uses. */
export const PROFILE_BOUNDS: ProfileBounds = Object.freeze({
  maxTraits: 300,
  maxTraitKeyBytes: 64,
  maxTraitValueBytes: 256,
  maxConsentCategories: 32,
  maxConsentKeyBytes: 64,
  maxEventNames: 100,
  maxEventNameBytes: 100,
  maxGroups: 50,
  maxGroupIdBytes: 128,
  maxRecentEvents: 50,
  maxSummaryIdBytes: 100,
  maxSummarySourceBytes: 64,
  dedupeWindow: 256,
  maxMergedFrom: MAX_IDENTIFIERS_PER_PROFILE - 1,
});

/** Longest profile id a profile accepts (ids from `profileIdFor` have 34 characters). */
export const MAX_PROFILE_ID_LENGTH = 64;
