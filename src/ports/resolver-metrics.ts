import type { RejectionReason } from '../core/identity/extract-identifiers';
import type { ProfileWarning } from '../core/profile/warnings';

/**
 * What the resolver counts: Powertools metrics (EMF) in AWS, the live counters of `npm start` locally.
 * Never given PII: only counts, identifier type names and reason codes.
 */
export interface ResolverMetrics {
  /** Events applied to a profile (`applied`), skipped as already applied (`duplicate`, `beyond_dedupe_horizon`), or without any identifier (`unresolvable`). */
  event(outcome: 'applied' | 'duplicate' | 'beyond_dedupe_horizon' | 'unresolvable'): void;
  /** A value found where an identifier type is read that did not become an identifier. */
  identifierRejected(type: string, reason: RejectionReason): void;
  /** An identifier merge protection dropped from an event (the limit of `limitType` would have broken). */
  identifierDropped(type: string, limitType: string): void;
  profileCreated(): void;
  profileMerged(): void;
  /** A conditional write lost to another resolver: the work was re-read and re-planned. */
  conflict(): void;
  /** Something was trimmed to keep a profile bounded (never a failed write). */
  profileWarning(code: ProfileWarning['code']): void;
}

export const noResolverMetrics: ResolverMetrics = {
  event() {},
  identifierRejected() {},
  identifierDropped() {},
  profileCreated() {},
  profileMerged() {},
  conflict() {},
  profileWarning() {},
};
