import type { StreamRecord } from '../events/stream-record';
import { messageKey } from '../identity/message-key';
import { addRecentEvent, countEvent, eventName, noteGroup, summarize } from './activity';
import { PROFILE_BOUNDS, type ProfileBounds } from './bounds';
import { consentOf, latestConsent } from './consent';
import { markSeen, seenStatus } from './dedupe';
import { assembleProfile, type Profile, type SeenMark } from './profile';
import { traitWrites, writeTraits } from './traits';
import { eventTime, isoOf } from './version';
import type { ProfileWarning } from './warnings';

export interface ApplyResult {
  /** The profile with the event applied; the same object when it was skipped. */
  readonly profile: Profile;
  readonly applied: boolean;
  /** Why it was not applied: seen before, or received before the dedupe horizon (see `dedupe.ts`). */
  readonly skipped?: 'duplicate' | 'beyond_dedupe_horizon';
  /** What was trimmed or refused to keep the profile bounded; never a reason to fail the event. */
  readonly warnings: readonly ProfileWarning[];
}

/**
 * Applies one stream record to a profile (pure: returns a new profile). Idempotent by
 * (source, messageId). What an event changes:
 * - counters: `eventCount`, `typeCounts`, `eventCounts` (track names); `firstSeen`/`lastSeen` (min/max
 *   event `timestamp`); `groups` (group calls); `recentEvents` (the last ones by timestamp);
 * - traits from identify `traits` and any call's `context.traits`: per trait, the write with the later
 *   event `timestamp` wins — a late event never overwrites a newer value — and equal timestamps are
 *   decided by message key;
 * - consent from `context.consent.categoryPreferences`, the latest event's whole.
 *
 * Order independence: every part of the profile is either a sum (counters), a min/max, or "the
 * highest-ranked entries by a fixed total order" (traits, consent, groups, recent events, dedupe), so
 * applying a set of events gives the same profile in any order, with any duplicates, and split between
 * profiles that are merged afterwards — within the limits of the bounded dedupe memory (see `dedupe.ts`).
 * Trimming (more than `maxTraits` traits, oversize values) follows the same rules and only warns.
 */
export function applyEvent(
  profile: Profile,
  record: StreamRecord,
  bounds: ProfileBounds = PROFILE_BOUNDS,
): ApplyResult {
  const mark = markOf(record);
  const key = mark[1];
  const status = seenStatus(profile, mark);
  if (status !== 'new') return { profile, applied: false, skipped: status, warnings: [] };

  const warnings: ProfileWarning[] = [];
  const { t, valid } = eventTime(record);
  if (!valid) warnings.push({ code: 'invalid_timestamp' });
  const version = { t, h: key };
  const name = eventName(record, bounds, warnings);

  const traits = writeTraits(
    profile.traits,
    traitWrites(record, version, bounds, warnings),
    bounds,
    warnings,
  );
  const consent = latestConsent(profile.consent, consentOf(record, version, bounds, warnings));
  const counters = countEvent(
    profile,
    record.type,
    record.type === 'track' ? name : undefined,
    bounds,
    warnings,
  );
  const groups = noteGroup(profile.groups, record, t, bounds, warnings);
  const recent = addRecentEvent(profile.recentEvents, summarize(record, key, t, name, bounds), bounds);
  const { seen, seenHorizon } = markSeen(profile, mark, bounds.dedupeWindow);

  const firstSeen =
    profile.firstSeen === undefined || t < Date.parse(profile.firstSeen) ? isoOf(t) : profile.firstSeen;
  const lastSeen =
    profile.lastSeen === undefined || t > Date.parse(profile.lastSeen) ? isoOf(t) : profile.lastSeen;

  const next = assembleProfile({
    ...profile,
    firstSeen,
    lastSeen,
    traits,
    consent,
    ...counters,
    groups,
    recentEvents: recent,
    seen,
    seenHorizon,
  });
  return { profile: next, applied: true, warnings };
}

/**
 * Whether the profile remembers applying this message (its `(source, messageId)`), as `applyEvent`
 * would find it: a delivery of it now would be skipped as a duplicate.
 */
export function hasApplied(profile: Profile, record: StreamRecord): boolean {
  return seenStatus(profile, markOf(record)) === 'duplicate';
}

/** The dedupe mark of a message: when it was received and its message key. */
function markOf(record: StreamRecord): SeenMark {
  const received = Date.parse(record.receivedAt);
  return [Number.isNaN(received) ? 0 : received, messageKey(record)];
}
